import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { resolveJwtSecret } from '../tokens/jwt-secret';
import type { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { openDatabase } from '../database/database-endpoint';
import { DatabaseModule } from '../database/database.module';
import { TeamsModule } from '../teams/teams.module';
import { TokensModule } from '../tokens/tokens.module';

type ModuleImports = NonNullable<DynamicModule['imports']>;

/** What the admin commands need: the same services as the admin HTTP API, without HTTP. */
@Module({})
class AdminCliModule {
  static forRoot(config: AppConfig, databaseUrl: string, extra: ModuleImports): DynamicModule {
    return {
      module: AdminCliModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl),
        TeamsModule,
        TokensModule,
        ...extra,
      ],
    };
  }
}

/**
 * Runs an admin command against the configured database, whether a server runs or not: the
 * embedded cluster is started only if needed (and then stopped again). Nest logs nothing, so
 * stdout carries only the command's output; failures reach reportAndExit as one line.
 * `extraImports`: modules a command needs beyond teams and tokens (e.g. blob storage).
 */
export async function withAdminContext<T>(
  config: AppConfig,
  command: (app: INestApplicationContext) => Promise<T>,
  extraImports: ModuleImports = [],
): Promise<T> {
  // Before the database: a missing JWT_SECRET is a configuration error, reported as such.
  resolveJwtSecret(config);
  const database = await openDatabase(config, { claim: false });
  try {
    const app = await NestFactory.createApplicationContext(
      AdminCliModule.forRoot(config, database.url, extraImports),
      { logger: false, abortOnError: false },
    );
    try {
      return await command(app);
    } finally {
      await app.close();
    }
  } finally {
    await database.release();
  }
}
