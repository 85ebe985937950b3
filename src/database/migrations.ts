import type { DataSource, Migration } from 'typeorm';

/** Arbitrary but fixed: serialises migration runs of several replicas starting at once. */
const MIGRATION_LOCK_KEY = 7_310_422_019;

/** Applies pending migrations under a PostgreSQL advisory lock; returns the ones applied. */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
