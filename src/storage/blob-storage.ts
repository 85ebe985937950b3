import type { Readable } from 'node:stream';

export const BLOB_STORAGE = Symbol('BLOB_STORAGE');

export interface BlobStat {
  size: number;
}

export interface BlobDownload extends BlobStat {
  stream: Readable;
}

/** Raised when a body does not match its announced length; nothing was made visible. */
export class BlobSizeMismatchError extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(`body was ${received} bytes, expected ${expected}`);
  }
}

/**
 * The storage port. Keys are `<teamId>/<hash>`, built only from validated values by the caller.
 * Adapters: FsStorage (DATA_DIR/blobs) and S3Storage (MinIO, S3, R2, ...).
 */
export interface BlobStorage {
  readonly driver: 'fs' | 's3';
  /** Resolves when the storage answers (readiness); rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Streams `body` to `key`. The object becomes visible only once the whole body is stored and
   * its length equals `expectedBytes`; on any failure (short/long body, aborted stream, storage
   * error) the promise rejects and nothing is visible under `key` (an older whole body may stay).
   */
  put(key: string, body: Readable, expectedBytes: number): Promise<void>;
  /** A stream of the whole object, or null when absent. */
  get(key: string): Promise<BlobDownload | null>;
  stat(key: string): Promise<BlobStat | null>;
  /** Removes the object; absent objects are not an error. */
  delete(key: string): Promise<void>;
}
