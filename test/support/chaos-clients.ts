import { sleep } from './wait';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/** A small seeded PRNG (mulberry32): a failing run can be repeated with its seed. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return { next, int: (below: number) => Math.floor(next() * below) };
}

/** Open descriptors of this process (where the app under test runs). */
export const openDescriptors = () => fs.readdirSync('/proc/self/fd').length;

/** Heap and RSS after a full garbage collection. */
export function memoryAfterGc(): { heapUsed: number; rss: number } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.on('close', () => resolve());
  });
}

/** Sends a PUT announcing `declared` bytes, `sent` of them, then vanishes after `lingerMs`. */
export async function vanishMidUpload(
  port: number,
  token: string,
  hash: string,
  declared: number,
  sent: number,
  lingerMs: number,
): Promise<void> {
  const socket = await connect(port);
  socket.on('error', () => undefined);
  socket.resume();
  socket.write(
    `PUT /v8/artifacts/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Length: ${declared}\r\n\r\n`,
  );
  if (sent > 0) await new Promise((resolve) => socket.write(Buffer.alloc(sent, 7), resolve));
  await sleep(lingerMs);
  socket.destroy();
  await closed(socket);
}

/** Starts a GET and vanishes once `after` bytes of the response arrived (or at its end). */
export async function vanishMidDownload(
  port: number,
  token: string,
  hash: string,
  after: number,
): Promise<void> {
  const socket = await connect(port);
  socket.on('error', () => undefined);
  let received = 0;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received >= after) socket.destroy();
  });
  socket.on('end', () => socket.destroy());
  socket.write(
    `GET /v8/artifacts/${hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
      'Connection: close\r\n\r\n',
  );
  if (after === 0) socket.destroy();
  await closed(socket);
}

/** Sends part of a request head, then vanishes. */
export async function vanishMidHeaders(port: number, head: string): Promise<void> {
  const socket = await connect(port);
  socket.on('error', () => undefined);
  socket.write(head);
  await sleep(5);
  socket.destroy();
  await closed(socket);
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at a time. */
export async function runPool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
