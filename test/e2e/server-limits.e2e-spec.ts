import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Team } from '../../src/teams/team.entity';
import { getArtifact, putArtifact, randomHash, sha256 } from '../support/artifacts';
import { rawRequest } from '../support/raw-http';
import { listeningPort } from '../support/ports';
import { createTeam, issueToken } from '../support/teams';
import { currentBlobKey } from '../support/usage';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

const IDLE_MS = 600;
const REQUEST_MS = 2_500;

/** Descriptors of this process open on `file`. */
const descriptorsOn = (file: string) =>
  fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;

/** A connection sending `head` at once, then `chunks` of `chunk` bytes every `everyMs`. */
function trickle(port: number, head: string, chunks: number, chunk: Buffer, everyMs: number) {
  const socket = net.connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (data) => (answer += data.toString()));
  socket.on('error', () => undefined);
  socket.write(head);
  let sent = 0;
  const timer = setInterval(() => {
    if (sent >= chunks || socket.destroyed) return clearInterval(timer);
    socket.write(chunk);
    sent += 1;
  }, everyMs);
  const started = Date.now();
  const closed = new Promise<{ afterMs: number; answer: string }>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ afterMs: Date.now() - started, answer });
    }),
  );
  return { closed, socket };
}

const putHead = (hash: string, token: string, length: number) =>
  `PUT /v8/artifacts/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
  `Content-Length: ${length}\r\n\r\n`;

describe('limits on slow and stalled clients', () => {
  let t: TestApp;
  let port: number;
  let team: Team;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp({
      UPLOAD_IDLE_TIMEOUT_MS: String(IDLE_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_MS),
    });
    port = await listeningPort(t.server);
    team = await createTeam(t, 'acme');
    token = (await issueToken(t, team)).token;
  });
  afterAll(() => t.close());

  const tempFiles = () => {
    const dir = `${t.config.dataDir}/blobs/.tmp`;
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  };

  it('cuts an upload whose body stops coming after UPLOAD_IDLE_TIMEOUT_MS, leaving nothing', async () => {
    const hash = randomHash();
    const { closed } = trickle(port, putHead(hash, token, 1_000_000), 2, randomBytes(10_000), 50);
    const { afterMs } = await closed;
    expect(afterMs).toBeGreaterThanOrEqual(IDLE_MS);
    expect(afterMs).toBeLessThan(IDLE_MS + 1_500);
    await eventually(async () => expect(tempFiles()).toEqual([]));
    await getArtifact(t.server, token, hash).expect(404);
  });

  it('lets a slow but steady upload finish although it takes longer than the idle timeout', async () => {
    const hash = randomHash();
    const body = randomBytes(8 * 4_096);
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (data) => (answer += data.toString()));
    socket.write(putHead(hash, token, body.length));
    for (let offset = 0; offset < body.length; offset += 4_096) {
      await sleep(IDLE_MS / 3);
      socket.write(body.subarray(offset, offset + 4_096));
    }
    await eventually(async () => expect(answer).toMatch(/^HTTP\/1.1 202/));
    socket.destroy();
    const res = await getArtifact(t.server, token, hash).expect(200);
    expect(sha256(res.body)).toBe(sha256(body));
  });

  it('answers 408 in the error shape to an upload not complete within REQUEST_TIMEOUT_MS', async () => {
    const hash = randomHash();
    const { closed } = trickle(
      port,
      putHead(hash, token, 1_000_000),
      100,
      randomBytes(1_000),
      IDLE_MS / 3,
    );
    const { afterMs, answer } = await closed;
    expect(afterMs).toBeGreaterThanOrEqual(REQUEST_MS);
    expect(afterMs).toBeLessThan(REQUEST_MS + 2_000);
    expect(answer).toMatch(/^HTTP\/1.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      code: 'request_timeout',
      message: 'the request was not received in time',
      error: { code: 'request_timeout', message: 'the request was not received in time' },
    });
    await eventually(async () => expect(tempFiles()).toEqual([]));
    await getArtifact(t.server, token, hash).expect(404);
  });

  it('closes a connection whose headers trickle in (slowloris)', async () => {
    // One valid header-name byte every 100 ms: never idle, never over the size limit.
    const head = 'GET /v8/artifacts/status HTTP/1.1\r\nX-Slow';
    const { closed } = trickle(port, head, 1_000, Buffer.from('w'), 100);
    const { afterMs, answer } = await closed;
    expect(afterMs).toBeGreaterThanOrEqual(IDLE_MS);
    expect(afterMs).toBeLessThan(IDLE_MS + 1_500);
    expect(answer).toMatch(/^HTTP\/1.1 408 /);
  });

  it('closes a download nobody reads, releasing its file', async () => {
    const hash = randomHash();
    // Far more than loopback socket buffers hold, so the server's writes must back up.
    await putArtifact(t.server, token, hash, Buffer.alloc(48 * 1024 * 1024, 'x')).expect(202);
    const file = fs.realpathSync(
      `${t.config.dataDir}/blobs/${await currentBlobKey(t, team.id, hash)}`,
    );
    const sockets = Array.from({ length: 5 }, () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.write(
        `GET /v8/artifacts/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      // Read the first bytes, then stop reading.
      socket.once('data', () => socket.pause());
      // The server ends a stalled download by destroying its socket: a reset is the point here.
      socket.on('error', () => undefined);
      return socket;
    });
    try {
      await eventually(async () => expect(descriptorsOn(file)).toBe(5));
      const held = await eventually(async () => expect(descriptorsOn(file)).toBe(0), 5_000);
      expect(held).toBeLessThan(IDLE_MS + 1_500);
    } finally {
      sockets.forEach((socket) => socket.destroy());
    }
  });

  it('answers a 20 KB header with 431 in the error shape and keeps serving', async () => {
    const res = await rawRequest(port, {
      method: 'GET',
      path: '/v8/artifacts/status',
      headers: { Authorization: `Bearer ${token}`, 'X-Big': 'b'.repeat(20_000) },
    });
    expect(res.status).toBe(431);
    expect(res.json).toMatchObject({
      code: 'request_header_fields_too_large',
      error: { code: 'request_header_fields_too_large' },
    });
    const ok = await rawRequest(port, {
      method: 'GET',
      path: '/v8/artifacts/status',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
  });
});
