import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 64 * 1024;

/** Distinct, reproducible bytes per (seed, chunk): a mixed, reordered or cut body cannot pass. */
function chunkAt(seed: number, index: number, length: number): Buffer {
  const pattern = createHash('sha256').update(`${seed}:${index}`).digest();
  return Buffer.alloc(length, pattern);
}

/**
 * A request-like body generated on the fly (never held whole): `size` bytes in 64 KiB chunks.
 * With `stallAfter` it stops sending after that many bytes, like a client that went quiet.
 * `pulled` counts the bytes handed out, to show how far a consumer read.
 */
export class GeneratedBody extends Readable {
  pulled = 0;
  private index = 0;

  constructor(
    private readonly size: number,
    private readonly seed: number,
    private readonly stallAfter = Number.POSITIVE_INFINITY,
  ) {
    super();
  }

  override _read(): void {
    if (this.pulled >= this.stallAfter) return;
    if (this.pulled >= this.size) {
      this.push(null);
      return;
    }
    const length = Math.min(CHUNK, this.size - this.pulled, this.stallAfter - this.pulled);
    this.pulled += length;
    this.push(chunkAt(this.seed, this.index++, length));
  }
}

/** The sha256 of what `new GeneratedBody(size, seed)` produces. */
export function digestOf(size: number, seed: number): string {
  const hash = createHash('sha256');
  for (let offset = 0, index = 0; offset < size; offset += CHUNK, index += 1) {
    hash.update(chunkAt(seed, index, Math.min(CHUNK, size - offset)));
  }
  return hash.digest('hex');
}

/** Reads a stream to its end, keeping only its length and sha256. */
export async function digestStream(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}
