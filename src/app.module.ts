import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { ArtifactsModule } from './artifacts/artifacts.module';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HttpExceptionFilter } from './common/http-exception.filter';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { RequestEnvelopeModule } from './http/request-envelope.module';
import { MetricsModule } from './metrics/metrics.module';
import { NxModule } from './nx/nx.module';
import { OidcModule } from './oidc/oidc.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RetentionSweepModule } from './retention/retention-sweep.module';
import { UsageRollupModule } from './stats/usage-rollup.module';
import { StorageModule } from './storage/storage.module';
import { TeamsModule } from './teams/teams.module';

export interface AppModuleOptions {
  config: AppConfig;
  /** Resolved by the entry point: DATABASE_URL, or the embedded cluster it started. */
  databaseUrl: string;
  /** Extra modules (tests mount probe controllers this way). */
  extraImports?: DynamicModule['imports'];
}

@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl, extraImports = [] }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl),
        MetricsModule,
        RequestEnvelopeModule,
        RateLimitModule,
        StorageModule,
        HealthModule,
        AuthModule,
        TeamsModule,
        AdminModule,
        ArtifactsModule,
        NxModule,
        OidcModule,
        EventsModule,
        RetentionSweepModule,
        UsageRollupModule,
        ...extraImports,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
