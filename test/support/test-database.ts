import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

function defaultAdminUrl(): string {
  const url = process.env.TEAMCACHE_TEST_ADMIN_URL;
  if (!url) throw new Error('TEAMCACHE_TEST_ADMIN_URL is not set: run the e2e tests through jest');
  return url;
}

async function withAdmin<T>(adminUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database for one test file; `drop` removes it. */
export async function createTestDatabase(
  adminUrl = defaultAdminUrl(),
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `teamcache_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
