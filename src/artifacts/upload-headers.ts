import { HttpStatus } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { AppException } from '../common/app-exception';
import { ErrorCode } from '../common/error-codes';
import { PROTOCOL_LIMITS } from './protocol-limits';

/** What a PUT carries besides its body, as validated from its headers. */
export interface UploadMetadata {
  /** Content-Length; null for a chunked body (turbo 1.13.4-2.1.x), counted as it arrives. */
  size: number | null;
  durationMs: number;
  tag: string | null;
  sha: string | null;
  dirtyHash: string | null;
  clientCi: string | null;
  clientInteractive: boolean | null;
}

const MAX_DURATION_MS = 2_147_483_647;
const LIMITS = {
  tag: PROTOCOL_LIMITS.tagLength,
  sha: PROTOCOL_LIMITS.shaLength,
  dirtyHash: PROTOCOL_LIMITS.dirtyHashLength,
  clientCi: PROTOCOL_LIMITS.clientCiLength,
};

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bounded(headers: IncomingHttpHeaders, name: string, max: number): string | null {
  const value = single(headers, name);
  if (value === undefined || value === '') return null;
  if (value.length > max)
    throw AppException.badRequest(`${name} must be at most ${max} characters`);
  return value;
}

/**
 * Validates the upload headers of protocol.md. Runs before the body is read, so an oversized or
 * unannounced body is refused without reading a byte of it.
 */
export function parseUploadHeaders(headers: IncomingHttpHeaders, maxSize: number): UploadMetadata {
  const length = single(headers, 'content-length');
  if (length === undefined && !isChunked(headers)) {
    throw new AppException(
      HttpStatus.LENGTH_REQUIRED,
      ErrorCode.LengthRequired,
      'Content-Length (or Transfer-Encoding: chunked) is required',
    );
  }
  if (length !== undefined && !/^\d{1,16}$/.test(length))
    throw AppException.badRequest('Content-Length must be a whole number');
  const size = length === undefined ? null : Number(length);
  if (size !== null && size > maxSize) {
    throw new AppException(
      HttpStatus.PAYLOAD_TOO_LARGE,
      ErrorCode.PayloadTooLarge,
      `artifact is ${size} bytes; the limit is ${maxSize}`,
    );
  }

  const duration = single(headers, 'x-artifact-duration');
  let durationMs = 0;
  if (duration !== undefined && duration !== '') {
    if (!/^\d{1,10}$/.test(duration) || Number(duration) > MAX_DURATION_MS) {
      throw AppException.badRequest('x-artifact-duration must be a whole number of milliseconds');
    }
    durationMs = Number(duration);
  }

  const interactive = single(headers, 'x-artifact-client-interactive');
  if (
    interactive !== undefined &&
    interactive !== '' &&
    interactive !== '0' &&
    interactive !== '1'
  ) {
    throw AppException.badRequest('x-artifact-client-interactive must be 0 or 1');
  }

  return {
    size,
    durationMs,
    tag: bounded(headers, 'x-artifact-tag', LIMITS.tag),
    sha: bounded(headers, 'x-artifact-sha', LIMITS.sha),
    dirtyHash: bounded(headers, 'x-artifact-dirty-hash', LIMITS.dirtyHash),
    clientCi: bounded(headers, 'x-artifact-client-ci', LIMITS.clientCi),
    clientInteractive: interactive === '1' ? true : interactive === '0' ? false : null,
  };
}

/** Node's parser accepts chunked only as the last transfer coding, and never beside Content-Length. */
function isChunked(headers: IncomingHttpHeaders): boolean {
  return /(?:^|,)\s*chunked\s*$/i.test(single(headers, 'transfer-encoding') ?? '');
}

/** The headers GET and HEAD return: exactly what was uploaded, duration defaulting to 0. */
export function artifactResponseHeaders(meta: {
  durationMs: number;
  tag: string | null;
  sha: string | null;
  dirtyHash: string | null;
}): Record<string, string> {
  const headers: Record<string, string> = { 'x-artifact-duration': String(meta.durationMs) };
  if (meta.tag !== null) headers['x-artifact-tag'] = meta.tag;
  if (meta.sha !== null) headers['x-artifact-sha'] = meta.sha;
  if (meta.dirtyHash !== null) headers['x-artifact-dirty-hash'] = meta.dirtyHash;
  return headers;
}
