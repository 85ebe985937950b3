import { startS3Server, type TestS3Server } from './s3-server';
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.factory';
import type { AppModuleOptions } from '../../src/app.module';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { createTestDatabase } from './test-database';

/** The JWT_SECRET of test apps unless `env` sets another (DATABASE_URL mode requires one). */
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789abcdef';

export interface TestApp {
  app: INestApplication;
  /** The node http.Server, for supertest. */
  server: Server;
  config: AppConfig;
  dataSource: DataSource;
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database and a fresh DATA_DIR. `env` overrides variables exactly as
 * an operator would set them.
 */
export async function createTestApp(
  env: Record<string, string> = {},
  options: {
    adminUrl?: string;
    extraImports?: AppModuleOptions['extraImports'];
    /** Use this existing database (e.g. one the CLI set up) instead of a fresh one; not dropped. */
    databaseUrl?: string;
  } = {},
): Promise<TestApp> {
  const database = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => undefined }
    : await createTestDatabase(options.adminUrl);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-data-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    // No background rollups: suites that rewrite events' times would race them, and the rollup
    // suites run the job themselves (UsageRollupJob.run).
    USAGE_ROLLUP_INTERVAL_MS: '0',
    ...env,
    DATABASE_URL: database.url,
  });
  const app = await createApp({
    config,
    databaseUrl: database.url,
    extraImports: options.extraImports,
  });
  await app.init();
  return {
    app,
    server: app.getHttpServer() as Server,
    config,
    dataSource: app.get(DataSource),
    databaseUrl: database.url,
    close: async () => {
      await app.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The storages every artifact suite runs on. */
export type StorageDriver = 'fs' | 's3';

/**
 * The real app on `driver` storage: fs under its DATA_DIR, or a fresh s3rver bucket on loopback
 * that `close()` stops with the app. The one app + s3rver fixture of the e2e suites.
 */
export async function createTestAppOn(
  driver: StorageDriver,
  env: Record<string, string> = {},
  options: Parameters<typeof createTestApp>[1] = {},
): Promise<TestApp & { s3?: TestS3Server }> {
  const s3 = driver === 's3' ? await startS3Server() : undefined;
  const t = await createTestApp({ ...(s3?.env ?? {}), ...env }, options);
  return {
    ...t,
    s3,
    close: async () => {
      await t.close();
      await s3?.close();
    },
  };
}
