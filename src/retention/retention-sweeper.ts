import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import {
  addRemoval,
  ArtifactReaper,
  emptyRemoval,
  REMOVAL_BATCH,
  RemovalResult,
} from './artifact-reaper';
import { overlayRetentionOf, teamPolicyOf } from '../teams/retention-policy';
import { ArtifactsRepository } from '../artifacts/artifacts.repository';
import { BlobCollector, type CollectionReport } from '../artifacts/blob-collector';
import type { RetentionDefaults } from '../config/retention-defaults';
import { withSweepLock } from '../common/sweep-lock';
import { UsagePruneReport, UsageRetention } from '../stats/usage-retention';

export interface SweepReport {
  /** Another process (a replica) held the sweep lock: this one did nothing. */
  skipped: boolean;
  teams: number;
  /** Not accessed for longer than the team's retention (overlay entries: overlay retention). */
  expired: RemovalResult;
  /** Least recently used, removed to bring a team under its quota (QUOTA_MODE=evict). */
  evicted: RemovalResult;
  /** Superseded and orphan bodies, rows without bodies (BlobCollector), after retention. */
  collected?: CollectionReport;
  /** Raw usage events and rollup rows past their retention (UsageRetention). */
  usage?: UsagePruneReport;
  durationMs: number;
}

interface TeamRow {
  id: string;
  retention_days: number | null;
  quota_bytes: string | null;
  overlay_retention_days: number | null;
}

/**
 * Deletes expired artifacts and, under QUOTA_MODE=evict, the least recently used ones of teams
 * over quota, then collects superseded and orphan bodies (BlobCollector) and prunes usage
 * events and rollups past their retention (UsageRetention): every
 * RETENTION_SWEEP_INTERVAL_MS, on whichever replica gets the PostgreSQL advisory lock (held by
 * one dedicated connection for the whole sweep; the others skip). A failed sweep is logged and
 * retried at the next interval; it never stops the process.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RetentionSweeper.name);
  private readonly defaults: RetentionDefaults;
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Aborted at shutdown: the usage prune stops between two statements. */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly dataSource: DataSource,
    private readonly reaper: ArtifactReaper,
    private readonly rows: ArtifactsRepository,
    private readonly collector: BlobCollector,
    private readonly usageRetention: UsageRetention,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.defaults = config.retention;
    this.intervalMs = config.retention.sweepIntervalMs;
  }

  onApplicationBootstrap(): void {
    if (this.intervalMs === 0) return;
    this.timer = setInterval(() => this.sweepInBackground(), this.intervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.shutdown.abort();
    await this.running;
  }

  private sweepInBackground(): void {
    if (this.running) return;
    this.running = this.sweep()
      .then((report) => {
        const c = report.collected;
        const collected = c ? c.superseded + c.orphans + c.vanishedRows + c.failures : 0;
        const u = report.usage;
        if (u && u.events + u.rollupRows > 0) {
          this.logger.log(
            `usage retention: deleted ${u.events} raw usage events and ${u.rollupRows} rollup rows (longest batch ${Math.round(u.longestBatchMs)} ms)${u.stopped ? '; stopped for shutdown, the next sweep goes on' : ''}`,
          );
        }
        if (report.expired.artifacts + report.evicted.artifacts + collected === 0) return;
        this.logger.log(
          `retention sweep: expired ${report.expired.artifacts} artifacts (${report.expired.bytes} bytes), evicted ${report.evicted.artifacts} (${report.evicted.bytes} bytes); blobs: ${c?.superseded ?? 0} superseded and ${c?.orphans ?? 0} orphans deleted, ${c?.vanishedRows ?? 0} rows without blobs dropped, ${c?.failures ?? 0} failures; in ${report.durationMs} ms`,
        );
      })
      .catch((error: unknown) =>
        this.logger.error(`retention sweep failed: ${(error as Error)?.message ?? error}`),
      )
      .finally(() => (this.running = undefined));
  }

  /** One sweep of every team, or none if another process holds the sweep lock. */
  async sweep(): Promise<SweepReport> {
    const started = Date.now();
    const report: SweepReport = {
      skipped: true,
      teams: 0,
      expired: emptyRemoval(),
      evicted: emptyRemoval(),
      durationMs: 0,
    };
    try {
      const outcome = await withSweepLock(this.dataSource, this.logger, async (runner) => {
        report.skipped = false;
        const teams: TeamRow[] = await runner.query(
          'SELECT id, retention_days, quota_bytes, overlay_retention_days FROM teams ORDER BY id',
        );
        for (const team of teams) {
          const policy = teamPolicyOf(team, this.defaults);
          addRemoval(report.expired, await this.expire(runner, team.id, policy.retentionDays));
          const overlays = overlayRetentionOf(team, this.defaults);
          addRemoval(report.expired, await this.expire(runner, team.id, overlays.days, true));
          if (policy.quotaMode === 'evict' && policy.quotaBytes !== null) {
            addRemoval(report.evicted, await this.evict(runner, team.id, policy.quotaBytes));
          }
          report.teams += 1;
        }
        report.collected = await this.collector.collect();
        report.usage = await this.usageRetention.prune(runner, { signal: this.shutdown.signal });
      });
      report.skipped = !outcome.locked;
      return report;
    } finally {
      report.durationMs = Date.now() - started;
    }
  }

  /**
   * Rows not accessed for `days`, oldest first, deleted before their blobs: of the trusted
   * namespace, or (`overlays`) of every untrusted overlay.
   */
  private expire(
    runner: QueryRunner,
    teamId: string,
    days: number,
    overlays = false,
  ): Promise<RemovalResult> {
    return this.reaper.drain(teamId, () =>
      this.rows.deleteNotAccessedFor(runner, teamId, days, REMOVAL_BATCH, overlays),
    );
  }

  /**
   * Least recently used first, while what would remain is over the quota: one statement picks
   * the victims (a running sum in LRU order) and deletes them, then their blobs go.
   */
  private evict(runner: QueryRunner, teamId: string, quotaBytes: number): Promise<RemovalResult> {
    return this.reaper.drain(teamId, () =>
      this.rows.deleteLeastRecentlyUsedOver(runner, teamId, quotaBytes, REMOVAL_BATCH),
    );
  }
}
