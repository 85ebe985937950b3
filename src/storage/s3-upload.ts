import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from 'minio';
import { BlobSizeMismatchError } from './blob-storage';
import { toStorageError } from './s3-errors';

export interface S3UploadTarget {
  client: Client;
  bucket: string;
  key: string;
  /** host:port, for error messages. */
  endpoint: string;
}

const CONTENT_TYPE = { 'Content-Type': 'application/octet-stream' };

/**
 * The sink of an S3 put, written to only through MeasuredBody. A body of at most `partSize`
 * bytes goes up as one PUT, larger ones as a multipart upload; either way the object becomes
 * visible only in `_final`, i.e. after the length check has passed. A full part is sent only
 * once more bytes arrive, so a body of unannounced length (chunked) needs no length up front.
 * On failure the multipart upload is aborted in the background, so the put rejects at once even
 * when S3 is unreachable.
 *
 * We do not hand the stream to minio's putObject: minio 8 buffers bodies up to its part size
 * and uploads whatever length it got, completes a multipart upload from a short stream, and
 * hangs forever when the source errors mid-multipart (verified against s3rver). S3 needs each
 * request's length (and, over plain HTTP, its SHA-256) up front, so one part is held in memory.
 */
export class S3UploadSink extends Writable {
  private static readonly logger = new Logger('S3Storage');
  private readonly buffer: Buffer;
  private filled = 0;
  private received = 0;
  private uploadId?: string;
  private readonly parts: { part: number; etag: string }[] = [];
  private pending: Promise<void> = Promise.resolve();
  private committed = false;

  /** `capacity`: the most bytes the body may have (its exact length, or the limit). */
  constructor(
    private readonly target: S3UploadTarget,
    private readonly capacity: number,
    partSize: number,
  ) {
    super();
    this.buffer = Buffer.allocUnsafe(Math.min(capacity, partSize));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    this.pending = this.take(chunk);
    // Calling back only once the part is stored is the backpressure on the request body.
    this.pending.then(() => callback(), callback);
  }

  override _final(callback: (error?: Error) => void) {
    this.pending = this.commit();
    this.pending.then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    if (!this.committed) void this.abandon();
    callback(error);
  }

  private async take(chunk: Buffer): Promise<void> {
    if (this.received + chunk.length > this.capacity) {
      throw new BlobSizeMismatchError(this.capacity, this.received + chunk.length);
    }
    let offset = 0;
    while (offset < chunk.length) {
      // A full buffer goes up only now that more bytes came: the last part waits for _final,
      // where the body is known to be whole.
      if (this.filled === this.buffer.length) await this.sendPart();
      const n = Math.min(chunk.length - offset, this.buffer.length - this.filled);
      chunk.copy(this.buffer, this.filled, offset, offset + n);
      this.filled += n;
      this.received += n;
      offset += n;
    }
  }

  private async sendPart(): Promise<void> {
    // A chunk larger than a part could start another upload after the pipeline gave up.
    if (this.destroyed) throw new Error('upload abandoned');
    const { client, bucket, key } = this.target;
    this.uploadId ??= await this.call(() =>
      client.initiateNewMultipartUpload(bucket, key, CONTENT_TYPE),
    );
    const uploadID = this.uploadId;
    const body = this.buffer.subarray(0, this.filled);
    const partNumber = this.parts.length + 1;
    const md5 = createHash('md5').update(body).digest('base64');
    const { etag } = await this.call(() =>
      client.uploadPart(
        {
          bucketName: bucket,
          objectName: key,
          uploadID,
          partNumber,
          headers: { 'Content-MD5': md5 },
        },
        body,
      ),
    );
    this.parts.push({ part: partNumber, etag });
    this.filled = 0;
  }

  private async commit(): Promise<void> {
    const { client, bucket, key } = this.target;
    if (this.uploadId === undefined) {
      const body = this.buffer.subarray(0, this.filled);
      await this.call(() => client.putObject(bucket, key, body, body.length, CONTENT_TYPE));
    } else {
      if (this.filled > 0) await this.sendPart();
      const uploadId = this.uploadId;
      await this.call(() => client.completeMultipartUpload(bucket, key, uploadId, this.parts));
    }
    this.committed = true;
  }

  /** Best effort: an upload that is never completed is never visible, only billed. */
  private async abandon(): Promise<void> {
    await this.pending.catch(() => undefined);
    if (this.uploadId === undefined || this.committed) return;
    const { client, bucket, key } = this.target;
    try {
      await client.abortMultipartUpload(bucket, key, this.uploadId);
    } catch (error) {
      S3UploadSink.logger.warn(
        `could not abort multipart upload ${this.uploadId} of ${key}: ${(error as Error).message}` +
          ' (it stays invisible; a bucket lifecycle rule or MinIO stale-upload expiry removes it)',
      );
    }
  }

  /** Storage errors are mapped here, where they cannot be confused with the body's own errors. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toStorageError(error, this.target.endpoint);
    }
  }
}
