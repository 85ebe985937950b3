import {
  BlobSizeMismatchError,
  InvalidBlobKeyError,
  StorageUnavailableError,
} from './blob-storage';

/** Socket-level failures: the endpoint is down, unreachable or timed out (see s3-transport). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** S3 error codes that mean "the service cannot serve now", not "this request is wrong". */
const SERVICE_CODES = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'NoSuchBucket',
  'XMinioServerNotInitialized',
  'XMinioStorageFull',
]);

export function s3CodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** GET answers NoSuchKey with an XML body; HEAD has no body, so minio reports NotFound. */
export function isS3NotFound(error: unknown): boolean {
  const code = s3CodeOf(error);
  return code === 'NoSuchKey' || code === 'NotFound';
}

/**
 * Wraps connectivity and service failures in StorageUnavailableError (naming the endpoint, for
 * logs and readiness); anything else (access denied, our own domain errors) passes unchanged.
 */
export function toStorageError(error: unknown, endpoint: string): unknown {
  if (
    error instanceof StorageUnavailableError ||
    error instanceof BlobSizeMismatchError ||
    error instanceof InvalidBlobKeyError
  ) {
    return error;
  }
  const code = s3CodeOf(error);
  if (code && (NETWORK_CODES.has(code) || SERVICE_CODES.has(code))) {
    const message = error instanceof Error && error.message ? error.message : code;
    return new StorageUnavailableError(`S3 at ${endpoint} is unavailable: ${message}`, {
      cause: error,
    });
  }
  return error;
}
