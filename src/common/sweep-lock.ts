import type { Logger } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';

/** Arbitrary but fixed (next to the migrations' key): one sweeper at a time per database. */
export const SWEEP_LOCK_KEY = 7_310_422_020;

/**
 * Runs `work` on one dedicated connection holding the sweep's PostgreSQL advisory lock, so that
 * of all the processes on one database (workers, replicas) one sweeps at a time; the others get
 * `{ locked: false }` at once. The lock is released (or, if that fails, the connection
 * discarded instead of returned to the pool with the lock held) whatever `work` does.
 */
export function withSweepLock<T>(
  dataSource: DataSource,
  logger: Logger,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<{ locked: false } | { locked: true; result: T }> {
  return withAdvisoryLock(dataSource, SWEEP_LOCK_KEY, logger, work);
}

/** withSweepLock for another periodic job: one holder of `key` at a time per database. */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: number,
  logger: Logger,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<{ locked: false } | { locked: true; result: T }> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  let locked = false;
  try {
    const [row] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [key]);
    locked = row.locked === true;
    if (!locked) return { locked: false };
    return { locked: true, result: await work(runner) };
  } finally {
    await unlockAndRelease(runner, key, locked, logger);
  }
}

async function unlockAndRelease(runner: QueryRunner, key: number, locked: boolean, logger: Logger) {
  let failure: Error | undefined;
  if (locked) {
    try {
      await runner.query('SELECT pg_advisory_unlock($1)', [key]);
    } catch (error) {
      failure = error as Error;
      logger.warn(`could not release advisory lock ${key}: ${failure.message}`);
    }
  }
  // TypeORM's PostgresQueryRunner hands an error to pg-pool, which then discards the client.
  const release = (
    runner as unknown as { releasePostgresConnection?: (e?: Error) => Promise<void> }
  ).releasePostgresConnection;
  if (failure && release) await release.call(runner, failure);
  else await runner.release();
}
