import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyServerLimits, type ServerLimits } from '../common/server-limits';

/**
 * The second HTTP listener of ADMIN_PORT: the same request handler as the public one (the
 * envelope, then the app), scoped to the admin API and UI by app.factory. Closed with the app.
 */
@Injectable()
export class AdminListener implements OnApplicationShutdown {
  private server?: Server;

  /**
   * Listens on `host:port` with the public listener's limits; resolves with the bound port
   * (useful when `port` is 0). Rejects when the port cannot be bound (e.g. EADDRINUSE).
   */
  async listen(
    handler: RequestListener,
    limits: ServerLimits,
    address: { port: number; host: string },
  ): Promise<number> {
    const server = createServer(handler);
    // The same 100-continue handling as the public listener (see app.factory).
    server.on('checkContinue', handler);
    applyServerLimits(server, limits);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  /** Stops accepting and lets in-flight admin requests finish (they are short). */
  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
