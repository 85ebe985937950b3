const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE = /^(\d{1,16}(?:\.\d{1,6})?)\s?([a-z]{1,3})?$/i;

export class InvalidByteSizeError extends Error {}

/**
 * `10GiB`, `500MB`, `1.5TiB` or a plain byte count (`1073741824`) in bytes. KB/MB/GB/TB are
 * powers of 1000, KiB/MiB/GiB/TiB powers of 1024 (units are case-insensitive). The result is a
 * whole, safe number of bytes greater than zero.
 */
export function parseByteSize(text: string): number {
  const match = SIZE.exec(text.trim());
  const unit = match?.[2]?.toLowerCase() ?? 'b';
  const factor = UNIT_BYTES[unit];
  const amount = match ? Number(match[1]) : NaN;
  if (!match || factor === undefined || (unit === 'b' && match[1].includes('.'))) {
    throw new InvalidByteSizeError(
      `invalid size ${JSON.stringify(text)}: use a number of bytes or a number and a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 10GiB`,
    );
  }
  const bytes = Math.round(amount * factor);
  if (bytes <= 0 || !Number.isSafeInteger(bytes)) {
    throw new InvalidByteSizeError(
      `invalid size ${JSON.stringify(text)}: must be more than 0 and at most ${Number.MAX_SAFE_INTEGER} bytes`,
    );
  }
  return bytes;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1.5 GiB`: binary units, at most one decimal (whole bytes below 1 KiB). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${text} ${BINARY_UNITS[unit]}`;
}
