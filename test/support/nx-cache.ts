import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import * as net from 'node:net';
import { metricValue, scrapeMetrics } from './metrics';
import { listeningPort } from './ports';
import { rawRequest } from './raw-http';

/** A random Nx task hash: a decimal u64, as nx's hasher prints it. */
export const randomNxHash = () => BigInt(`0x${randomBytes(8).toString('hex')}`).toString();

/** Opaque bytes standing in for the gzip tar Nx uploads. */
export const nxBody = (size: number) => randomBytes(size);

const authorization = (token?: string): Record<string, string> =>
  token === undefined ? {} : { Authorization: `Bearer ${token}` };

/** GET /v1/cache/{hash} as Nx sends it (bearer token, nothing else). */
export async function nxGet(server: Server, hash: string, token?: string) {
  const port = await listeningPort(server);
  return rawRequest(port, {
    method: 'GET',
    path: `/v1/cache/${hash}`,
    headers: authorization(token),
  });
}

/** PUT /v1/cache/{hash} as Nx sends it: an explicit Content-Length (overridable in `headers`). */
export async function nxPut(
  server: Server,
  hash: string,
  body: Buffer,
  token?: string,
  headers: Record<string, string | number> = {},
) {
  const port = await listeningPort(server);
  return rawRequest(port, {
    method: 'PUT',
    path: `/v1/cache/${hash}`,
    headers: { ...authorization(token), ...headers },
    body,
  });
}

/** A PUT announcing `declared` bytes that sends `sent` of them, then drops the connection. */
export async function cutOffNxPut(
  server: Server,
  token: string,
  hash: string,
  declared: number,
  sent: number,
): Promise<void> {
  const port = await listeningPort(server);
  const head =
    `PUT /v1/cache/${hash} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Length: ${declared}\r\n\r\n`;
  await new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.write(Buffer.concat([Buffer.from(head, 'latin1'), randomBytes(sent)]), () =>
      setTimeout(() => socket.destroy(), 100),
    );
  });
}

/** The Nx refusal counter and the Nx lookup counter of `team`, read from /metrics. */
export async function nxCounters(server: Server, team: string) {
  const samples = await scrapeMetrics(server);
  return {
    refusals: (method: 'GET' | 'PUT', reason: string) =>
      metricValue(samples, 'teamcache_nx_refusals_total', { method, reason }),
    lookups: (result: 'hit' | 'miss') =>
      metricValue(samples, 'teamcache_cache_lookups_total', { team, tool: 'nx', result }),
  };
}

/**
 * A TCP forwarder in front of a dependency (s3rver, PostgreSQL) that can fail on demand:
 * `stall()` accepts connections and bytes but forwards and answers nothing (a hung server),
 * `refuse()` closes the port (connections refused: a server that is down); `restore()` forwards
 * again on the same port.
 */
export async function startDependencyProxy(target: { host?: string; port: number }) {
  let stalled = false;
  let delayMs = 0;
  const sockets = new Set<net.Socket>();
  const forward = (to: net.Socket) => (chunk: Buffer) => {
    if (stalled) return;
    if (delayMs === 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), delayMs);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host ?? '127.0.0.1');
    const drop = () => {
      for (const socket of [client, upstream]) {
        socket.destroy();
        sockets.delete(socket);
      }
    };
    sockets.add(client).add(upstream);
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  // Connections that lost bytes while stalled cannot carry on: every open one is dropped.
  const dropAll = () => sockets.forEach((socket) => socket.destroy());
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    stall: () => {
      stalled = true;
    },
    /** Forwards every chunk `ms` late (a slow server that does answer). */
    slow: (ms: number) => {
      delayMs = ms;
    },
    refuse: async () => {
      dropAll();
      if (server.listening) await close();
    },
    restore: async () => {
      dropAll();
      stalled = false;
      delayMs = 0;
      if (!server.listening) await listen(port);
    },
    close: async () => {
      dropAll();
      if (server.listening) await close();
    },
  };
}

/** A dependency proxy as startDependencyProxy returns it. */
export type DependencyProxy = Awaited<ReturnType<typeof startDependencyProxy>>;

/** The test PostgreSQL's admin URL, reached through `proxy` (for createTestApp's adminUrl). */
export function adminUrlThrough(proxy: DependencyProxy): string {
  const url = new URL(testAdminUrl());
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

/** Where the test PostgreSQL listens (to put a proxy in front of). */
export function testPostgresAddress(): { host: string; port: number } {
  const url = new URL(testAdminUrl());
  return { host: url.hostname, port: Number(url.port || 5432) };
}

function testAdminUrl(): string {
  const url = process.env.TEAMCACHE_TEST_ADMIN_URL;
  if (!url) throw new Error('TEAMCACHE_TEST_ADMIN_URL is not set: run the e2e tests through jest');
  return url;
}
