import * as net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface RawRequest {
  method: string;
  /** Sent exactly as given: no client normalises `..`, `%2f` or anything else on the way. */
  path: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string;
  /** Extra header lines sent verbatim (duplicates, malformed ones). Content-Length is set from
   * `body` unless `headers` sets it. */
  rawHeaderLines?: string[];
}

/**
 * One HTTP/1.1 exchange over a fresh socket, written byte for byte, with `Connection: close`;
 * resolves once the server closes the connection (or after `timeoutMs`).
 */
export function rawRequest(port: number, request: RawRequest, timeoutMs = 10_000) {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers: Record<string, string | number> = { Host: '127.0.0.1', Connection: 'close' };
  if (request.body !== undefined) headers['Content-Length'] = body.length;
  Object.assign(headers, request.headers);
  const head =
    `${request.method} ${request.path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    (request.rawHeaderLines ?? []).map((line) => `${line}\r\n`).join('') +
    '\r\n';
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer to ${request.method} ${request.path}`));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    // The server may answer and close before the whole body was written (an early 4xx).
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks), request.method === 'HEAD'));
      } catch (error) {
        reject(error);
      }
    });
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  });
}

function parseResponse(raw: Buffer, isHead: boolean): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no HTTP response, got ${JSON.stringify(raw.toString())}`);
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = isHead ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString());
  } catch {
    json = undefined;
  }
  return { status, headers, body, json };
}

/**
 * A PUT with `Expect: 100-continue` as curl sends it for bodies over 1 MiB: the headers first;
 * the body only if the server answers `100 Continue` within `waitMs`. Resolves to whether it
 * was invited and the final response.
 */
export function expectContinuePut(
  port: number,
  path: string,
  headers: Record<string, string | number>,
  body: Buffer,
  waitMs = 1_500,
): Promise<{ invited: boolean; response: RawResponse }> {
  const head =
    `PUT ${path} HTTP/1.1\r\n` +
    Object.entries({ Host: '127.0.0.1', Connection: 'close', Expect: '100-continue', ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let invited = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no final answer to PUT ${path}`));
    }, 15_000);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const interim = /^HTTP\/1\.1 100 [^\r]*\r\n\r\n/.exec(received.toString('latin1'));
      if (interim) {
        invited = true;
        received = received.subarray(interim[0].length);
        socket.write(body);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve({ invited, response: parseResponse(received, false) });
      } catch (error) {
        reject(error);
      }
    });
    socket.write(head);
    // Like curl: no answer within the wait, send the body anyway.
    setTimeout(() => {
      if (!invited && received.length === 0 && !socket.destroyed) socket.write(body);
    }, waitMs);
  });
}
