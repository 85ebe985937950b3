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
  options: { adminUrl?: string; extraImports?: AppModuleOptions['extraImports'] } = {},
): Promise<TestApp> {
  const database = await createTestDatabase(options.adminUrl);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-data-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
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
