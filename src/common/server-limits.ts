import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './error-body';
import { codeForStatus } from './error-codes';

export interface ServerLimits {
  /** The whole request (headers and body) must arrive within this time; 0 = no limit. */
  requestTimeoutMs: number;
  /** A connection that moves no byte for this long mid-request is closed; 0 = no limit. */
  uploadIdleTimeoutMs: number;
}

/** Headers arrive in one packet from any real client: a minute is already generous. */
const MAX_HEADERS_TIMEOUT_MS = 60_000;

/** What Node's HTTP parser reports, as the status Node itself would answer. */
const STATUS_BY_PARSER_ERROR: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const MESSAGES: Record<number, string> = {
  400: 'malformed HTTP request',
  408: 'the request was not received in time',
  413: 'chunk extensions are too large',
  431: 'request headers are too large (at most 16 KiB)',
};

/**
 * Bounds what a slow or hostile client can hold: headers must arrive within a minute (or the
 * smaller of the two limits), the whole request within `requestTimeoutMs`, and a connection that
 * stalls mid-request (an upload body that stops coming, a download nobody reads) is cut after
 * `uploadIdleTimeoutMs`. Cutting a request destroys its body stream, so an upload in progress
 * fails and leaves nothing behind. Errors Node answers before the app sees the request (header
 * overflow, timeouts, malformed requests) get the usual error body.
 */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  const bounds = [limits.requestTimeoutMs, limits.uploadIdleTimeoutMs].filter((ms) => ms > 0);
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(MAX_HEADERS_TIMEOUT_MS, ...bounds);
  // Without a 'timeout' listener Node destroys a socket idle for this long.
  server.timeout = limits.uploadIdleTimeoutMs;
  // Node checks the two timeouts above on this interval (read when the server starts listening).
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.max(50, Math.min(30_000, Math.floor(server.headersTimeout / 4)));
  server.on('clientError', answerClientError);
}

function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // Node's own rule: answer only if no response of this connection has started yet.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const status = STATUS_BY_PARSER_ERROR[error.code ?? ''] ?? 400;
    const body = JSON.stringify(errorBody(codeForStatus(status), MESSAGES[status]));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
