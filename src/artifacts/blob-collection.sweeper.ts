import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { withSweepLock } from '../common/sweep-lock';
import { BlobCollector, CollectionReport } from './blob-collector';

/**
 * Runs BlobCollector every RETENTION_SWEEP_INTERVAL_MS (0: never) on whichever process holds
 * the sweep lock, the same lock as the retention sweep, so one process of a deployment sweeps
 * at a time. A failed collection is logged and retried at the next interval.
 */
@Injectable()
export class BlobCollectionSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BlobCollectionSweeper.name);
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly collector: BlobCollector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.intervalMs = config.retention.sweepIntervalMs;
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) =>
          this.logger.error(`blob collection failed: ${(error as Error)?.message ?? error}`),
        )
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One collection under the sweep lock; null when another process holds it. */
  async sweep(): Promise<CollectionReport | null> {
    const outcome = await withSweepLock(this.dataSource, this.logger, () =>
      this.collector.collect(),
    );
    if (!outcome.locked) return null;
    const r = outcome.result;
    if (r.superseded + r.orphans + r.vanishedRows + r.failures > 0) {
      this.logger.log(
        `blob collection: ${r.superseded} superseded and ${r.orphans} orphan blobs deleted, ${r.vanishedRows} rows without blobs dropped, ${r.failures} failures`,
      );
    }
    return r;
  }
}
