import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from './app.factory';
import { resolveJwtSecret } from './auth/jwt-secret';
import { AppConfig } from './config/app-config';
import { openDatabase } from './database/database-endpoint';

/**
 * `teamcache serve`: start (or adopt) the database, serve HTTP, and on SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT_MS), close the database
 * pool and stop the embedded PostgreSQL.
 */
export async function serve(config: AppConfig): Promise<void> {
  // A missing or weak JWT_SECRET stops start-up before the database is touched.
  resolveJwtSecret(config);
  // The same JSON lines as the app's logger, also for what happens before and after the app.
  const logger = pino({ level: config.logLevel }).child({ context: 'teamcache' });
  const database = await openDatabase(config, { claim: true, log: (line) => logger.info(line) });
  let app;
  try {
    app = await createApp({ config, databaseUrl: database.url });
    await app.listen(config.port, config.host);
  } catch (error) {
    await database.release();
    throw error;
  }
  logger.info(
    `listening on http://${config.host}:${config.port} (storage: ${config.storage.driver})`,
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: draining in-flight requests (at most ${config.shutdownTimeoutMs} ms)`);
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
