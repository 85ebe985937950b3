import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { createApp } from './app.factory';
import { AppConfig } from './config/app-config';
import { openDatabase } from './database/database-endpoint';

/**
 * `teamcache serve`: start (or adopt) the database, serve HTTP, and on SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT_MS), close the database
 * pool and stop the embedded PostgreSQL.
 */
export async function serve(config: AppConfig): Promise<void> {
  const logger = new Logger('teamcache');
  const database = await openDatabase(config, { claim: true, log: (line) => logger.log(line) });
  let app;
  try {
    app = await createApp({ config, databaseUrl: database.url });
    await app.listen(config.port, config.host);
  } catch (error) {
    await database.release();
    throw error;
  }
  logger.log(
    `listening on http://${config.host}:${config.port} (storage: ${config.storage.driver})`,
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.log(`${signal}: draining in-flight requests (at most ${config.shutdownTimeoutMs} ms)`);
    const server = app.getHttpServer() as Server;
    const deadline = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
    deadline.unref();
    try {
      await app.close();
      await database.release();
      process.exit(0);
    } catch (error) {
      logger.error(`shutdown failed: ${(error as Error).message}`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
