import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { errorBody } from '../common/error-body';
import { ErrorCode } from '../common/error-codes';
import type { MetricsService } from '../metrics/metrics.service';
import type { BlobDownload } from '../storage/blob-storage';
import type { CacheTool } from '../storage/blob-keys';
import type { ArtifactHeaders } from './artifact-index.cache';
import { binaryHeaders, NOT_FOUND } from './artifact-responses';

/** What a GET or HEAD found: the headers and stored size, and for a GET the body. */
export interface FoundArtifact {
  meta: ArtifactHeaders;
  size: number;
  /** Absent for HEAD. */
  blob?: BlobDownload;
}

const NOT_FOUND_BODY = JSON.stringify(errorBody(ErrorCode.NotFound, NOT_FOUND));

/**
 * Answers a GET or HEAD of an artifact, for every frontend: 200 with the stored size and the
 * upload's headers (protocol.md: x-artifact-duration always, tag/sha/dirty-hash when uploaded,
 * never Content-Encoding) and the body for GET; or 404 in the error shape. Counts the lookup
 * (GET only: turbo's --dry HEADs are no hits) and the bytes handed to the client, once, under
 * the client's `tool`.
 * A storage failure mid-body, or a client gone, cuts the response (never a short body that
 * looks whole). Anything thrown before the first byte is written leaves `res` untouched.
 */
export async function sendArtifact(
  res: ServerResponse,
  method: 'GET' | 'HEAD',
  found: FoundArtifact | null,
  teamSlug: string,
  metrics: MetricsService,
  tool: CacheTool = 'turbo',
): Promise<void> {
  if (method === 'GET') metrics.recordLookup(teamSlug, found ? 'hit' : 'miss', tool);
  if (!found) {
    res.writeHead(404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(NOT_FOUND_BODY),
    });
    res.end(NOT_FOUND_BODY);
    return;
  }
  res.writeHead(200, binaryHeaders(found.size, found.meta));
  if (!found.blob) {
    res.end();
    return;
  }
  const { bytes } = found.blob;
  if (bytes) {
    res.end(bytes);
    metrics.recordDownload(teamSlug, bytes.length, tool);
    return;
  }
  // The bytes handed to the client, counted when the response closes: a client that has read
  // the whole body may hang up before the storage stream even reports its end.
  const { stream } = found.blob;
  let sent = 0;
  stream.on('data', (chunk: Buffer) => (sent += chunk.length));
  res.once('close', () => metrics.recordDownload(teamSlug, sent, tool));
  await pipeline(stream, res).catch(() => res.destroy());
}
