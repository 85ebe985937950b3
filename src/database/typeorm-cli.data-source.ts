import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source-options';

/**
 * For the TypeORM CLI (`npm run migration:generate`): needs DATABASE_URL pointing at a database
 * migrated to the current head.
 */
const { databaseUrl } = loadConfig();
if (!databaseUrl) throw new Error('set DATABASE_URL to generate migrations');
export default new DataSource(dataSourceOptions(databaseUrl));
