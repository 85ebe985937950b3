import { createHash } from 'node:crypto';

/**
 * A Bloom filter of strings: `has` is never false for a key that was added, and true for a key
 * that was not with a probability of about 1% when sized for the keys added. The orphan sweep
 * remembers every key a storage listing showed in about 1.2 bytes per key, instead of a Set
 * of strings (about 100 bytes per key), so a team of millions of artifacts is reconciled in
 * flat memory; a false positive only defers one row's repair to a later sweep (a new `seed`).
 */
export class KeyFilter {
  private readonly bits: Uint8Array;
  private readonly size: number;
  private static readonly PROBES = 7;

  constructor(
    expectedKeys: number,
    private readonly seed = 0,
  ) {
    // ~9.6 bits per key for 1%; at least 8 Kibit.
    this.size = Math.max(8192, Math.ceil(Math.max(expectedKeys, 1) * 9.6));
    this.bits = new Uint8Array(Math.ceil(this.size / 8));
  }

  add(key: string): void {
    for (const bit of this.positions(key)) this.bits[bit >>> 3] |= 1 << (bit & 7);
  }

  has(key: string): boolean {
    for (const bit of this.positions(key)) {
      if ((this.bits[bit >>> 3] & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  /** Double hashing (Kirsch–Mitzenmacher) over two 32-bit words of one sha1. */
  private positions(key: string): number[] {
    const digest = createHash('sha1').update(`${this.seed}:${key}`).digest();
    const a = digest.readUInt32LE(0);
    const b = (digest.readUInt32LE(4) | 1) >>> 0;
    const out: number[] = [];
    for (let i = 0; i < KeyFilter.PROBES; i++) out.push((a + i * b) % this.size);
    return out;
  }
}
