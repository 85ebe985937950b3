import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';

/** A throwaway embedded cluster in a (0700) temp dir. */
export interface ScratchPostgres {
  adminUrl: string;
  cluster: EmbeddedPostgres;
  stop(): Promise<void>;
}

export async function startScratchPostgres(): Promise<ScratchPostgres> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-pg-'));
  const cluster = new EmbeddedPostgres({ dataDir });
  const record = await cluster.start(true);
  return {
    adminUrl: cluster.url(record, 'postgres'),
    cluster,
    stop: async () => {
      await cluster.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
