import { Readable } from 'node:stream';
import { ClientRequestError, DependencyUnavailableError } from '../common/domain-errors';
import { ErrorCode } from '../common/error-codes';
import { parseBlobKey } from './blob-keys';
import type { StoredBody } from './measured-body';

/** What the app reads and writes through: the adapter with small bodies kept in memory. */
export const BLOB_STORAGE = Symbol('BLOB_STORAGE');
/**
 * The bare adapter, for whoever needs storage's own word rather than memory's: the sweeps and
 * `artifacts verify`, which re-read bodies and act on what storage says is there.
 */
export const BLOB_ADAPTER = Symbol('BLOB_ADAPTER');

export interface BlobStat {
  size: number;
  /**
   * Names this stored body: it changes whenever the object under the key is replaced (fs: inode,
   * mtime and size; S3: ETag), so metadata cached beside one body is never paired with another.
   */
  version: string;
}

export interface BlobDownload extends BlobStat {
  stream: Readable;
  /**
   * The whole body, when the adapter has read it already (small fs blobs): a caller may send it
   * at once instead of consuming `stream`, which then yields exactly these bytes.
   */
  bytes?: Buffer;
}

/** A download of bytes already in memory; its stream is made only for a caller that asks. */
export function downloadOfBytes(bytes: Buffer, version: string): BlobDownload {
  let stream: Readable | undefined;
  return {
    size: bytes.length,
    version,
    bytes,
    get stream() {
      return (stream ??= Readable.from([bytes], { objectMode: false }));
    },
  };
}

/** Raised when a body does not match its announced length (400); nothing was made visible. */
export class BlobSizeMismatchError extends ClientRequestError {
  readonly status = 400;
  readonly code = ErrorCode.BadRequest;

  constructor(
    readonly expected: number,
    /** Bytes seen before giving up: a long body is cut off at the first byte too many. */
    readonly received: number,
  ) {
    super(
      `body was ${received > expected ? 'at least ' : ''}${received} bytes, expected ${expected}`,
    );
    this.name = 'BlobSizeMismatchError';
  }
}

/** A body of unannounced length (chunked) went past its limit (413); nothing was made visible. */
export class BlobTooLargeError extends ClientRequestError {
  readonly status = 413;
  readonly code = ErrorCode.PayloadTooLarge;

  constructor(readonly limit: number) {
    super(`body is larger than the limit of ${limit} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

/**
 * How long a body must be: a number is the exact length (Content-Length); `{ atMost }` a body
 * of unannounced length (Transfer-Encoding: chunked), counted as it arrives and cut past the limit.
 */
export type ExpectedLength = number | { atMost: number };

/**
 * The storage could not be reached or cannot serve right now (connection refused or reset,
 * timeout, S3 5xx, missing bucket, disk full): a dependency outage, answered 503 by the HTTP layer.
 */
export class StorageUnavailableError extends DependencyUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** A key outside blob-keys.ts's layout; callers build keys there, so this means a bug or an attack. */
export class InvalidBlobKeyError extends Error {
  constructor(key: string) {
    super(`invalid blob key ${JSON.stringify(key.slice(0, 200))}`);
    this.name = 'InvalidBlobKeyError';
  }
}

/**
 * Every adapter checks keys again although callers build them from validated values: a key
 * becomes a file path or an object name, so `..`, `/` or odd characters must never get through.
 */
export function assertBlobKey(key: string): void {
  if (!isBlobKey(key)) throw new InvalidBlobKeyError(String(key));
}

export function isBlobKey(key: unknown): key is string {
  return typeof key === 'string' && parseBlobKey(key) !== null;
}

export function assertByteCount(expected: ExpectedLength): void {
  const bytes = typeof expected === 'number' ? expected : expected?.atMost;
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`expected byte count must be a whole number >= 0, got ${bytes}`);
  }
}

/** One stored body as a listing sees it. */
export interface ListedBlob {
  key: string;
  size: number;
  /** When the body was written (fs: mtime; S3: LastModified). */
  modifiedAt: Date;
}

/**
 * The storage port. Keys come from blob-keys.ts (`<teamId>/<hash>.<version>`, or the older
 * `<teamId>/<hash>`), built only from validated values; adapters still reject any other key
 * with InvalidBlobKeyError. Connectivity failures reject with StorageUnavailableError.
 * Adapters: FsStorage (DATA_DIR/blobs) and S3Storage (MinIO, S3, R2).
 */
export interface BlobStorage {
  readonly driver: 'fs' | 's3';
  /** Resolves when the storage answers (readiness); rejects otherwise, within a few seconds. */
  ping(): Promise<void>;
  /**
   * Streams `body` to `key`. The object becomes visible only once the whole body is stored and
   * its length fits `expected` (exactly a number of bytes, or at most `atMost`); on any failure
   * (short/long body: BlobSizeMismatchError, over `atMost`: BlobTooLargeError, aborted stream,
   * storage error) the promise rejects and nothing is visible under `key`. Once reading has
   * started, a failure destroys `body` (stream.pipeline semantics). Resolves to the stored
   * body's size and sha256, computed while it streamed.
   */
  put(key: string, body: Readable, expected: ExpectedLength): Promise<StoredBody>;
  /** A stream of the whole object and its size (of that same version), or null when absent. */
  get(key: string): Promise<BlobDownload | null>;
  stat(key: string): Promise<BlobStat | null>;
  /** Removes the object; absent objects are not an error. */
  delete(key: string): Promise<void>;
  /** The team ids that have a folder (fs) or key prefix (S3) in storage, in no set order. */
  listTeams(): Promise<string[]>;
  /** Every artifact key under one team, in no set order; names that are not keys are skipped. */
  listTeamBlobs(teamId: string): AsyncIterable<ListedBlob>;
  /**
   * Removes what abandoned uploads left behind (fs temp files, S3 multipart uploads) untouched
   * for `olderThanMinutes`; never anything visible. Resolves to how many were removed.
   */
  sweepStaleUploads(olderThanMinutes: number): Promise<number>;
}
