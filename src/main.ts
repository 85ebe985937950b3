import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { createApp, listen, type Listening } from './app.factory';
import { resolveJwtSecret } from './tokens/jwt-secret';
import { AppConfig } from './config/app-config';
import { DatabaseEndpoint, openDatabase } from './database/database-endpoint';
import { rootLogger } from './logging/root-logger';
import { readyReport } from './ready-report';
import { TeamsService } from './teams/teams.service';

/** What a worker tells its primary once it answers (WORKERS > 1): one ready report for all. */
interface WorkerReady {
  teamcache: 'ready';
  listening: Listening;
  teamCount: number;
}

/**
 * `teamcache serve`: start (or adopt) the database, serve HTTP, and on SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish (bounded by SHUTDOWN_TIMEOUT_MS), close the database
 * pool and stop the embedded PostgreSQL. With WORKERS=n > 1, a primary process owns the
 * database and n workers share the port (node:cluster).
 */
export async function serve(config: AppConfig): Promise<void> {
  // A missing or weak JWT_SECRET stops start-up before the database is touched.
  resolveJwtSecret(config);
  // The same lines as the app's logger, also for what happens before and after the app.
  const logger = rootLogger(config).child({ context: 'teamcache' });
  if (cluster.isWorker) return serveHttp(config, logger, { claim: false, worker: true });
  if (config.workers > 1) return superviseWorkers(config, logger);
  return serveHttp(config, logger, { claim: true, worker: false });
}

async function serveHttp(
  config: AppConfig,
  logger: Logger,
  role: { claim: boolean; worker: boolean },
): Promise<void> {
  // The primary has said how the database was reached; a worker's adoption of it is detail.
  const log = (line: string) => (role.worker ? logger.debug(line) : logger.info(line));
  const database = await openDatabase(config, { claim: role.claim, log });
  let app: INestApplication | undefined;
  let listening: Listening;
  try {
    app = await createApp({ config, databaseUrl: database.url });
    listening = await listen(app, config);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await database.release();
    throw error;
  }
  const teamCount = await app.get(TeamsService).count();
  if (role.worker) {
    const ready: WorkerReady = { teamcache: 'ready', listening, teamCount };
    process.send?.(ready);
  } else {
    for (const line of readyReport(config, listening, teamCount))
      logger.info(line.fields, line.msg);
  }

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
  // A worker stops when its primary says so; a terminal's Ctrl-C reaches the primary too.
  if (role.worker) process.on('SIGINT', () => undefined);
  else process.once('SIGINT', stop);
}

/**
 * The primary of WORKERS=n: owns the database (starts or adopts the embedded one; workers
 * migrate at start under the advisory lock), forks the workers, replaces one that dies, gives
 * up when they keep dying at start, and on a signal stops them all before the database.
 */
async function superviseWorkers(config: AppConfig, logger: Logger): Promise<void> {
  const database: DatabaseEndpoint = await openDatabase(config, {
    claim: true,
    log: (l) => logger.info(l),
  });
  let stopping = false;
  let quickDeaths = 0;
  const startedAt = new Map<number, number>();
  const fork = () => startedAt.set(cluster.fork().id, Date.now());
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const livedMs = Date.now() - (startedAt.get(worker.id) ?? 0);
    quickDeaths = livedMs < 10_000 ? quickDeaths + 1 : 0;
    if (quickDeaths >= 3) {
      logger.fatal('workers keep exiting at start; stopping');
      void stop('SIGTERM', 1);
      return;
    }
    logger.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    fork();
  });
  // The ready report once every worker answers, with the last one's view of the teams.
  let readyWorkers = 0;
  cluster.on('message', (_worker, message: Partial<WorkerReady>) => {
    if (message?.teamcache !== 'ready' || ++readyWorkers !== config.workers) return;
    const lines = readyReport(config, message.listening!, message.teamCount!);
    lines[0].msg += ` (${config.workers} workers)`;
    for (const line of lines) logger.info(line.fields, line.msg);
  });
  for (let i = 0; i < config.workers; i++) fork();
  logger.debug(`primary ${process.pid} started ${config.workers} workers`);

  const stop = async (signal: NodeJS.Signals, exitCode = 0) => {
    if (stopping && exitCode === 0) return;
    stopping = true;
    logger.info(`${signal}: stopping ${config.workers} workers`);
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await database.release();
    process.exit(exitCode);
  };
  process.once('SIGTERM', (signal) => void stop(signal));
  process.once('SIGINT', (signal) => void stop(signal));
}
