import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { withAdvisoryLock } from '../common/sweep-lock';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RollupWatermark } from './rollup-watermark';
import { UsageDailyArtifactsRepository } from './usage-daily-artifacts.repository';
import { UsageRollupsRepository } from './usage-rollups.repository';

/** Arbitrary but fixed (next to the sweep's key): one rollup job at a time per database. */
export const ROLLUP_LOCK_KEY = 7_310_422_021;
/** Events rolled up per transaction (by id): bounds a transaction while catching up. */
export const ROLLUP_CHUNK_IDS = 100_000;
/** Catching up longer than this in one run is logged. */
const SLOW_RUN_MS = 10_000;
const DAY_MS = 86_400_000;

/** The UTC day (`YYYY-MM-DD`) `days` days from the instant `ms`. */
const utcDay = (ms: number, days: number) =>
  new Date(ms + days * DAY_MS).toISOString().slice(0, 10);

export interface RollupReport {
  /** Another process held the rollup lock: this one did nothing. */
  skipped: boolean;
  /** Events rolled up, and where rolled_up_to stands after the run. */
  events: number;
  rolledUpTo: number;
  /** Rows of usage_daily_artifacts trimmed (old days keep their top hashes). */
  trimmed: number;
  /** Artifact deltas folded into artifact_day_totals. */
  folded: number;
  durationMs: number;
}

/**
 * Keeps the usage rollups and artifact day totals current: every USAGE_ROLLUP_INTERVAL_MS, on
 * whichever process gets its advisory lock, it rolls the usage events up to the newest safe
 * watermark (RollupWatermark: the lag is one or two intervals, seconds), trims the days before
 * yesterday to their top hashes, and folds the artifact deltas. Ingestion never waits for it:
 * the stats add the events above the watermark from the raw table. A failed run is logged and
 * retried at the next interval.
 */
@Injectable()
export class UsageRollupJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRollupJob.name);
  private readonly intervalMs: number;
  private readonly watermark = new RollupWatermark();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly rollups: UsageRollupsRepository,
    private readonly hashes: UsageDailyArtifactsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.intervalMs = config.usageStats.rollupIntervalMs;
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs === 0) return;
    this.timer = setInterval(() => this.runInBackground(), this.intervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private runInBackground(): void {
    if (this.running) return;
    this.running = this.run()
      .then((report) => {
        if (report.durationMs >= SLOW_RUN_MS) {
          this.logger.log(
            `usage rollup: ${report.events} events rolled up to id ${report.rolledUpTo} in ${report.durationMs} ms`,
          );
        }
      })
      .catch((error: unknown) =>
        this.logger.error(`usage rollup failed: ${(error as Error)?.message ?? error}`),
      )
      .finally(() => (this.running = undefined));
  }

  /**
   * One run, or none if another process holds the rollup lock. With no other transaction
   * writing, a run rolls up every event committed before it; else the next run does.
   */
  async run(): Promise<RollupReport> {
    const started = Date.now();
    const report: RollupReport = {
      skipped: true,
      events: 0,
      rolledUpTo: 0,
      trimmed: 0,
      folded: 0,
      durationMs: 0,
    };
    try {
      const outcome = await withAdvisoryLock(
        this.dataSource,
        ROLLUP_LOCK_KEY,
        this.logger,
        async (runner) => {
          report.skipped = false;
          await this.rollUp(runner, report);
          report.folded = await this.rollups.foldArtifactDeltas(runner);
        },
      );
      report.skipped = !outcome.locked;
      return report;
    } finally {
      report.durationMs = Date.now() - started;
    }
  }

  private async rollUp(runner: QueryRunner, report: RollupReport) {
    this.watermark.mark(await this.rollups.readSequence(runner));
    const safe = this.watermark.takeSafe(await this.rollups.oldestRunningWriter(runner));
    let at = await this.rollups.rolledUpTo(runner);
    const target = Math.max(at, safe ?? 0);
    const dayBeforeYesterday = utcDay(Date.now(), -2);
    while (at < target && !this.stopping) {
      const next = Math.min(target, at + ROLLUP_CHUNK_IDS);
      const chunk = await this.rollups.rollUp(runner, at, next);
      report.events += chunk.events;
      at = next;
      // A day is complete once events two days later come in (the rest are late, trimmed
      // again): trimming as the chunks go keeps a catch-up from writing every hash of a year.
      const latest = chunk.days.reduce((max, day) => (day > max ? day : max), '');
      if (latest) {
        const closed = utcDay(Date.parse(`${latest}T00:00:00Z`), -2);
        const through = closed < dayBeforeYesterday ? closed : dayBeforeYesterday;
        await this.trim(runner, report, through, chunk.days);
      }
    }
    report.rolledUpTo = at;
    if (at >= target) await this.trim(runner, report, dayBeforeYesterday, []);
  }

  /** Trims (UsageDailyArtifactsRepository.trim), and vacuums what that freed for the next chunk. */
  private async trim(runner: QueryRunner, report: RollupReport, through: string, late: string[]) {
    const trimmed = await this.hashes.trim(runner, through, late);
    report.trimmed += trimmed;
    if (trimmed > 0) await this.hashes.vacuum(runner);
  }
}
