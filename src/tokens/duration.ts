import { AppException } from '../common/app-exception';

const UNIT_MS = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
} as const;

/** Long enough for any token, short enough that the expiry stays a valid date and JWT `exp`. */
export const MAX_DURATION_MS = 100 * UNIT_MS.y;

const DURATION = /^(\d{1,6})([smhdwy])$/;

export class InvalidDurationError extends Error {}

/**
 * `30m`, `12h`, `90d`, `1y` (also `s` and `w`) in milliseconds. `m` is minutes; a year is 365
 * days. Anything else (no unit, zero, fractions, spaces, combinations) is refused.
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text);
  const amount = match ? Number(match[1]) : 0;
  if (!match || amount === 0) {
    throw new InvalidDurationError(
      `invalid duration ${JSON.stringify(text)}: use a positive whole number and a unit (s, m, h, d, w, y), e.g. 30m, 12h, 90d, 1y`,
    );
  }
  const ms = amount * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) {
    throw new InvalidDurationError(`invalid duration ${JSON.stringify(text)}: at most 100y`);
  }
  return ms;
}

/** parseDuration for a value a client sent: an invalid one is a 400 with the same message. */
export function parseRequestDuration(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    if (error instanceof InvalidDurationError) throw AppException.badRequest(error.message);
    throw error;
  }
}
