import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { dataSourceOptions } from '../database/data-source-options';
import { openDatabase } from '../database/database-endpoint';
import { runMigrations } from '../database/migrations';

export async function migrate(config: AppConfig): Promise<void> {
  const database = await openDatabase(config, { claim: false });
  const dataSource = new DataSource(dataSourceOptions(database.url));
  try {
    await dataSource.initialize();
    const applied = await runMigrations(dataSource);
    const names = applied.map((m) => m.name);
    process.stdout.write(
      names.length ? `applied: ${names.join(', ')}\n` : 'schema is up to date\n',
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.release();
  }
}
