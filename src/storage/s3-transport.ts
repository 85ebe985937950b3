import * as http from 'node:http';
import * as https from 'node:https';

/**
 * The minio client sets no timeouts: an S3 endpoint that accepts connections but never answers
 * would hang a put or get forever. This transport destroys a request whose socket stays idle for
 * `idleMs` before the response headers arrive (connect, upload, server think time). Once the
 * response has started, the caller's stream (backpressure, client disconnect) governs it.
 */
export function timeoutTransport(
  useSSL: boolean,
  idleMs: number,
): { request: typeof http.request } {
  const base = useSSL ? https : http;
  const request = (
    options: http.RequestOptions,
    callback?: (res: http.IncomingMessage) => void,
  ) => {
    const req = base.request(options, callback);
    req.setTimeout(idleMs, () => {
      const error: NodeJS.ErrnoException = new Error(`S3 request idle for ${idleMs} ms`);
      error.code = 'ETIMEDOUT';
      req.destroy(error);
    });
    req.once('response', () => req.setTimeout(0));
    return req;
  };
  // minio only ever calls request(options, callback); the cast covers the other overloads.
  return { request: request as typeof http.request };
}
