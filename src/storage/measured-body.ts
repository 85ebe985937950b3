import { createHash, type Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import { BlobSizeMismatchError, BlobTooLargeError, type ExpectedLength } from './blob-storage';

/**
 * What a body turned out to be once it was stored whole: its length in bytes and the sha256 of
 * its bytes (lowercase hex), computed as they streamed through.
 */
export interface StoredBody {
  size: number;
  sha256: string;
}

/**
 * Passes a body through on its way to storage while counting and digesting it. With an exact
 * length (a number: Content-Length) it fails at the first byte beyond it (so a long body is
 * never read to its end) and at the end of a short one; with `{ atMost }` (a chunked body) at
 * the first byte beyond that limit, with BlobTooLargeError. Either way it fails before the sink
 * downstream sees the end, so sinks commit only acceptable bodies, and `stored()` describes
 * what they committed.
 */
export class MeasuredBody extends Transform {
  private received = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest?: string;

  constructor(private readonly expected: ExpectedLength) {
    super();
  }

  /** The most bytes this body may have. */
  get capacity(): number {
    return typeof this.expected === 'number' ? this.expected : this.expected.atMost;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.received += chunk.length;
    if (this.received > this.capacity) {
      callback(
        typeof this.expected === 'number'
          ? new BlobSizeMismatchError(this.expected, this.received)
          : new BlobTooLargeError(this.expected.atMost),
      );
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback) {
    if (typeof this.expected === 'number' && this.received !== this.expected) {
      callback(new BlobSizeMismatchError(this.expected, this.received));
      return;
    }
    this.digest = this.hash.digest('hex');
    callback();
  }

  /** Size and digest of the whole body; throws before the body has ended. */
  stored(): StoredBody {
    if (this.digest === undefined) throw new Error('the body has not ended yet');
    return { size: this.received, sha256: this.digest };
  }
}
