import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BLOB_STORAGE, type BlobStorage } from './blob-storage';

export interface SweepSchedule {
  /** Leftovers untouched for this long are removed (SWEEP_TEMP_AFTER_MINUTES). */
  afterMinutes: number;
  /** Time between sweeps; 0 = sweep once at start only (SWEEP_TEMP_INTERVAL_MINUTES). */
  intervalMs: number;
}

/**
 * Removes what abandoned uploads leave behind (fs temp files, S3 multipart uploads) once at start
 * (a crash or kill -9 leaves them) and then every interval. A failed put cleans up after itself;
 * this catches what a dead process could not. Sweeps never overlap, and a failing sweep (storage
 * down) is logged and retried at the next interval.
 */
@Injectable()
export class StorageSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StorageSweeper.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly schedule: SweepSchedule;

  constructor(
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'tempSweep'>,
  ) {
    this.schedule = config.tempSweep;
  }

  onApplicationBootstrap(): void {
    void this.sweep();
    if (this.schedule.intervalMs > 0) {
      this.timer = setInterval(() => void this.sweep(), this.schedule.intervalMs);
      this.timer.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep (or the one already under way); resolves to how many leftovers it removed. */
  sweep(): Promise<number> {
    this.running ??= this.storage
      .sweepStaleUploads(this.schedule.afterMinutes)
      .then(
        (removed) => {
          if (removed > 0) this.logger.log(`removed ${removed} abandoned upload leftovers`);
          return removed;
        },
        (error: unknown) => {
          this.logger.warn(`sweeping upload leftovers failed: ${(error as Error).message}`);
          return 0;
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
