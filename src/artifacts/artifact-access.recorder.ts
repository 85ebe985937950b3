import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { ArtifactsRepository } from './artifacts.repository';

const FLUSH_INTERVAL_MS = 15_000;
const MAX_PENDING = 10_000;

interface PendingAccess {
  teamId: string;
  hash: string;
  /** The namespace of the row that was served (trust/artifact-space.ts). */
  namespace: string;
  hits: number;
  at: Date;
}

/**
 * Counts downloads in memory and writes them in one UPDATE every 15 s, so a cache hit never
 * waits for (or fails on) a database write, and a hot artifact costs one row update per
 * interval instead of one per download.
 */
@Injectable()
export class ArtifactAccessRecorder
  implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(ArtifactAccessRecorder.name);
  private pending = new Map<string, PendingAccess>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly rows: ArtifactsRepository) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Counts one download of the row of `hash` in `namespace`. */
  recordHit(teamId: string, hash: string, namespace: string): void {
    const key = `${teamId}/${hash}@${namespace}`;
    const entry = this.pending.get(key);
    if (entry) {
      entry.hits += 1;
      entry.at = new Date();
    } else {
      this.pending.set(key, { teamId, hash, namespace, hits: 1, at: new Date() });
    }
    if (this.pending.size >= MAX_PENDING) void this.flush();
  }

  /** Writes what was counted so far; a failed write is logged and dropped (counts are advisory). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.rows.recordHits(batch);
    } catch (error) {
      this.logger.warn(
        `could not record ${batch.length} artifact accesses: ${(error as Error).message}`,
      );
    }
  }
}
