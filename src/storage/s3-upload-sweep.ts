import type { Logger } from '@nestjs/common';
import type { Client } from 'minio';
import { isBlobKey } from './blob-storage';
import { s3CodeOf, toStorageError } from './s3-errors';

/** Answers of S3 implementations without ListMultipartUploads / AbortMultipartUpload (s3rver). */
const UNSUPPORTED = new Set(['NotImplemented', 'MethodNotAllowed', 'XNotImplemented']);

/** A bound on one sweep (1,000 uploads a page): the next sweep continues. */
const MAX_PAGES = 100;

export interface MultipartSweepTarget {
  client: Client;
  bucket: string;
  endpoint: string;
  logger: Logger;
}

/**
 * Aborts multipart uploads of our keys initiated more than `olderThanMinutes` ago: a put that
 * failed aborts its own upload, but a crash, a kill -9 or an unreachable S3 at that moment leaves
 * one behind (invisible, but billed). Endpoints that cannot list or abort uploads are reported
 * once and skipped; there a bucket lifecycle rule (AbortIncompleteMultipartUpload) or MinIO's
 * stale-upload expiry is the remedy. Resolves to how many uploads were aborted.
 */
export async function sweepStaleMultipartUploads(
  target: MultipartSweepTarget,
  olderThanMinutes: number,
  state: { unsupported: boolean },
): Promise<number> {
  const { client, bucket, endpoint, logger } = target;
  if (state.unsupported) return 0;
  const cutoff = Date.now() - olderThanMinutes * 60_000;
  let keyMarker = '';
  let uploadIdMarker = '';
  let aborted = 0;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    let listing;
    try {
      listing = await client.listIncompleteUploadsQuery(bucket, '', keyMarker, uploadIdMarker, '');
    } catch (error) {
      if (isUnsupported(error)) return reportUnsupported(target, state, error);
      throw toStorageError(error, endpoint);
    }
    for (const upload of listing.uploads) {
      const initiated = (upload as { initiated?: Date }).initiated;
      if (!isBlobKey(upload.key) || !(initiated instanceof Date)) continue;
      if (initiated.getTime() >= cutoff) continue;
      try {
        await client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
        aborted += 1;
      } catch (error) {
        if (isUnsupported(error)) return reportUnsupported(target, state, error);
        logger.warn(`could not abort stale upload of ${upload.key}: ${(error as Error).message}`);
      }
    }
    // minio passes IsTruncated on as parsed from the XML; without a next marker there is no way on.
    if (String(listing.isTruncated) !== 'true' || !listing.nextKeyMarker) break;
    keyMarker = listing.nextKeyMarker;
    uploadIdMarker = listing.nextUploadIdMarker;
  }
  return aborted;
}

function isUnsupported(error: unknown): boolean {
  return UNSUPPORTED.has(s3CodeOf(error) ?? '');
}

function reportUnsupported(
  target: MultipartSweepTarget,
  state: { unsupported: boolean },
  error: unknown,
): number {
  state.unsupported = true;
  target.logger.warn(
    `S3 at ${target.endpoint} cannot list or abort multipart uploads (${s3CodeOf(error)}); ` +
      'stale uploads are left to a bucket lifecycle rule (AbortIncompleteMultipartUpload)',
  );
  return 0;
}
