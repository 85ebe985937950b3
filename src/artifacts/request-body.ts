import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';

/** A PassThrough that calls `onFirstRead` when its consumer first asks for data. */
class BodyOnDemand extends PassThrough {
  private asked = false;

  constructor(private readonly onFirstRead: () => void) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _read(size: number): void {
    if (!this.asked) {
      this.asked = true;
      this.onFirstRead();
    }
    super._read(size);
  }
}

/**
 * The request body as a stream that storage may destroy on failure without destroying the
 * request's socket (stream.pipeline destroys its source), so a storage outage still reaches the
 * client as a 503. A client that disconnects mid-body still fails the stream at once.
 * A client that sent `Expect: 100-continue` is invited (`100 Continue`) only when storage first
 * reads the stream: every check (token, team, read-only, size, quota) has passed by then, and a
 * refused upload gets its final status without the client sending the body (RFC 9110 10.1.1;
 * the server installs a checkContinue listener, so Node never invites on its own).
 */
export function detachedBody(req: IncomingMessage, res?: ServerResponse): Readable {
  const body = new BodyOnDemand(() => {
    if (res && expectsContinue(req) && !res.headersSent) res.writeContinue();
  });
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

function expectsContinue(req: IncomingMessage): boolean {
  return /^\s*100-continue\s*$/i.test(req.headers.expect ?? '');
}
