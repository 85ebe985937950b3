import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BLOB_STORAGE, type BlobStorage } from '../storage/blob-storage';

/** Misses are collected this long, then checked in one query. */
const REPAIR_DELAY_MS = 250;
/** A storm of distinct misses is checked in batches of at most this many. */
const MAX_SUSPECTS = 5_000;

interface Suspect {
  teamId: string;
  hash: string;
}

/**
 * Lookups ask storage first, so a miss costs no database round trip. A miss can still hide a
 * row whose blob vanished behind our back (deleted in the bucket by hand, a lifecycle rule):
 * such rows would count against quotas and answer the query route forever. Misses are noted
 * here and checked shortly after, off the request path, in one query per batch; a row found is
 * deleted only if its blob is still missing after the row was read, and only that very row
 * (a concurrent upload may have written a new body and row meanwhile).
 */
@Injectable()
export class VanishedBlobRepair implements OnModuleDestroy {
  private readonly logger = new Logger(VanishedBlobRepair.name);
  private suspects = new Map<string, Suspect>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
  ) {}

  onModuleDestroy(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** `teamId/hash` had no blob: check for a row left behind. */
  suspect(teamId: string, hash: string): void {
    if (this.closed || this.suspects.size >= MAX_SUSPECTS) return;
    this.suspects.set(`${teamId}/${hash}`, { teamId, hash });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.running || this.closed || this.suspects.size === 0) return;
    this.timer = setTimeout(() => void this.run(), REPAIR_DELAY_MS);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    const batch = [...this.suspects.values()];
    this.suspects = new Map();
    try {
      await this.repair(batch);
    } catch (error) {
      this.logger.warn(
        `could not check ${batch.length} missed artifacts for lost blobs: ${(error as Error).message}`,
      );
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async repair(batch: Suspect[]): Promise<void> {
    // created_at as text keeps its microseconds, which a JS Date would round away.
    const rows: { team_id: string; hash: string; created_at: string }[] =
      await this.dataSource.query(
        `SELECT a.team_id, a.hash, a.created_at::text AS created_at
         FROM artifacts a
         JOIN unnest($1::varchar[], $2::varchar[]) AS s(team_id, hash)
           ON a.team_id = s.team_id AND a.hash = s.hash`,
        [batch.map((s) => s.teamId), batch.map((s) => s.hash)],
      );
    for (const row of rows) {
      if (this.closed) return;
      if (await this.storage.stat(`${row.team_id}/${row.hash}`)) continue;
      this.logger.warn(`blob of ${row.team_id}/${row.hash} is missing; dropping its metadata`);
      await this.dataSource.query(
        `DELETE FROM artifacts WHERE team_id = $1 AND hash = $2 AND created_at <= $3::timestamptz`,
        [row.team_id, row.hash, row.created_at],
      );
    }
  }
}
