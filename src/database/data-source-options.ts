import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';

/** The one TypeORM configuration: the app, the CLI and the tests all build it from a URL. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    applicationName: 'teamcache',
    extra: {
      max: 20,
      connectionTimeoutMillis: 5_000,
      // A stopped database must fail queries quickly (503), not hang requests.
      query_timeout: 30_000,
    },
  };
}
