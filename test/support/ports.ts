import type { Server } from 'node:http';
import * as net from 'node:net';

/** The port a (test app's) server listens on, listening on 127.0.0.1 first if it does not yet. */
export async function listeningPort(server: Server): Promise<number> {
  if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** A port free on 127.0.0.1 right now (for a server process to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
