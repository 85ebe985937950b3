import { DynamicModule, Inject, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { runMigrations } from './migrations';

export const RUN_MIGRATIONS = Symbol('RUN_MIGRATIONS');

/** Brings the schema up to date before the app serves (or the CLI acts). */
@Injectable()
class MigrateOnStart implements OnModuleInit {
  private readonly logger = new Logger('Migrations');

  constructor(
    private readonly dataSource: DataSource,
    @Inject(RUN_MIGRATIONS) private readonly enabled: boolean,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    const applied = await runMigrations(this.dataSource);
    for (const migration of applied) this.logger.log(`applied migration ${migration.name}`);
  }
}

@Module({})
export class DatabaseModule {
  static forRoot(url: string, options: { runMigrations?: boolean } = {}): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({ ...dataSourceOptions(url), retryAttempts: 3, retryDelay: 2_000 }),
      ],
      providers: [
        { provide: RUN_MIGRATIONS, useValue: options.runMigrations ?? true },
        MigrateOnStart,
      ],
    };
  }
}
