import type { AppConfig } from '../config/app-config';
import { EmbeddedPostgres } from './embedded-postgres';

export interface DatabaseEndpoint {
  url: string;
  embedded: boolean;
  /** Stops the embedded cluster if this process owns it; a no-op for DATABASE_URL. */
  release(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise the embedded cluster in DATA_DIR/postgres, started if needed.
 * `claim`: the server owns (and later stops) the cluster even if it found it running; the admin
 * CLI only stops a cluster it started itself.
 */
export async function openDatabase(
  config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>,
  options: { claim: boolean; log?: (line: string) => void },
): Promise<DatabaseEndpoint> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, release: async () => undefined };
  }
  const cluster = new EmbeddedPostgres({ dataDir: config.dataDir, log: options.log });
  const record = await cluster.start(options.claim);
  return { url: cluster.url(record), embedded: true, release: () => cluster.stop() };
}
