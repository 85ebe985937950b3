import { startScratchPostgres } from './postgres-server';

declare global {
  var __teamcacheStopPostgres: (() => Promise<void>) | undefined;
}

/**
 * One PostgreSQL server per test run: TEST_DATABASE_URL (e.g. a system PostgreSQL) when set,
 * else an embedded cluster in a temp dir. Each test file creates its own fresh database on it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) {
    process.env.TEAMCACHE_TEST_ADMIN_URL = process.env.TEST_DATABASE_URL;
    return;
  }
  const server = await startScratchPostgres();
  process.env.TEAMCACHE_TEST_ADMIN_URL = server.adminUrl;
  globalThis.__teamcacheStopPostgres = server.stop;
}
