import { Transform, TransformCallback } from 'node:stream';
import { BlobSizeMismatchError } from './blob-storage';

/**
 * Passes bytes through while counting them: fails at the first byte beyond `expected` (so a
 * long body is never read to its end) and at the end of a short one, before the sink downstream
 * sees its end. Sinks therefore commit only bodies of exactly the announced length.
 */
export class ExactLengthCheck extends Transform {
  private received = 0;

  constructor(private readonly expected: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.received += chunk.length;
    if (this.received > this.expected) {
      callback(new BlobSizeMismatchError(this.expected, this.received));
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback) {
    if (this.received !== this.expected) {
      callback(new BlobSizeMismatchError(this.expected, this.received));
      return;
    }
    callback();
  }
}
