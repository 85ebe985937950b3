import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/**
 * The request body as a stream that storage may destroy on failure without destroying the
 * request's socket (stream.pipeline destroys its source), so a storage outage still reaches the
 * client as a 503. A client that disconnects mid-body still fails the stream at once.
 */
export function detachedBody(req: IncomingMessage): Readable {
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  // Storage's pipeline reports the error to the upload. Until it is attached (the client may
  // vanish while storage prepares) an 'error' without a listener would kill the process.
  body.on('error', () => undefined);
  req.pipe(body);
  req.once('error', (error) => body.destroy(error));
  const gone = () => body.destroy(new Error('client disconnected before the body was complete'));
  req.once('close', () => {
    if (!req.complete) gone();
  });
  // The client may have vanished while the guard ran: 'close' has fired already and would
  // never reach us, leaving storage waiting for bytes that never come.
  if (!req.complete && (req.destroyed || req.socket?.destroyed)) gone();
  return body;
}
