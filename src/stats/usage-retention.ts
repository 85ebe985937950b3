import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/** Raw events deleted per statement: each is its own short transaction. */
export const EVENT_PRUNE_BATCH = 5_000;
/**
 * The least pause after each DELETE, in ms; the prune waits at least as long as the statement
 * took, so it holds the disk at most half the time. A batch of a large table reads cold index
 * pages and writes their full images to the WAL, which concurrent inserts commit through.
 */
const PRUNE_PAUSE_MS = 20;
/** Rollup rows deleted per statement. */
const ROLLUP_PRUNE_BATCH = 10_000;
const DAY_MS = 86_400_000;

export interface UsagePruneReport {
  /** Raw usage events deleted (older than USAGE_EVENTS_RETENTION_DAYS, rolled up). */
  events: number;
  /** Rollup rows deleted (older than USAGE_ROLLUP_RETENTION_DAYS). */
  rollupRows: number;
  /** The longest single DELETE, in ms. */
  longestBatchMs: number;
  /** The signal stopped the pass between two statements; the next pass goes on. */
  stopped: boolean;
}

/** Midnight UTC `days` whole days before the day of `now`. */
export function utcMidnightDaysBefore(now: Date, days: number): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - days * DAY_MS);
}

/**
 * Bounds the usage history (called by the retention sweep, under its lock): raw usage events
 * are kept for USAGE_EVENTS_RETENTION_DAYS whole UTC days before today, and only events
 * already rolled up are ever deleted; the daily rollups are kept for
 * USAGE_ROLLUP_RETENTION_DAYS. Deletes in batches, each statement its own transaction, so
 * ingestion and stats never wait long, and stops between two of them once `signal` aborts
 * (the server shutting down: a first prune after an upgrade can run for minutes).
 */
@Injectable()
export class UsageRetention {
  private readonly eventsDays: number;
  private readonly rollupDays: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.eventsDays = config.usageStats.eventsRetentionDays;
    this.rollupDays = config.usageStats.rollupRetentionDays;
  }

  /** One pass over every team; `now` is for tests. */
  async prune(
    runner: QueryRunner,
    { now = new Date(), signal }: { now?: Date; signal?: AbortSignal } = {},
  ): Promise<UsagePruneReport> {
    const report: UsagePruneReport = {
      events: 0,
      rollupRows: 0,
      longestBatchMs: 0,
      stopped: false,
    };
    const eventsBefore = utcMidnightDaysBefore(now, this.eventsDays);
    // Readers take events_kept_from in the same snapshot as the events: raised first, so no
    // snapshot sees an event gone without knowing it may be.
    const [state] = await runner.query(
      `UPDATE usage_rollup_state
          SET events_kept_from = GREATEST(COALESCE(events_kept_from, $1), $1)
        WHERE id = 1 RETURNING rolled_up_to`,
      [eventsBefore],
    );
    const rolledUpTo = Number(state[0]?.rolled_up_to ?? 0);
    const rollupsBefore = utcMidnightDaysBefore(now, this.rollupDays).toISOString().slice(0, 10);
    const teams: { id: string }[] = await runner.query('SELECT id FROM teams ORDER BY id');
    for (const { id } of teams) {
      // By ctid, oldest first through (team_id, created_at): an `id IN (...)` of this many
      // rows is planned as a hash join over the whole table.
      report.events += await this.drain(
        runner,
        report,
        signal,
        `DELETE FROM usage_events WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM usage_events
            WHERE team_id = $1 AND created_at < $2 AND id <= $3
            ORDER BY created_at LIMIT $4))`,
        [id, eventsBefore, rolledUpTo, EVENT_PRUNE_BATCH],
      );
      for (const table of ['usage_daily_counts', 'usage_session_days', 'usage_daily_artifacts']) {
        report.rollupRows += await this.drain(
          runner,
          report,
          signal,
          `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM ${table} WHERE team_id = $1 AND day < $2::date LIMIT $3))`,
          [id, rollupsBefore, ROLLUP_PRUNE_BATCH],
        );
      }
    }
    return report;
  }

  /**
   * Runs `sql` (a batched DELETE) until it deletes nothing or `signal` aborts; returns the rows
   * deleted.
   */
  private async drain(
    runner: QueryRunner,
    report: UsagePruneReport,
    signal: AbortSignal | undefined,
    sql: string,
    params: unknown[],
  ): Promise<number> {
    let total = 0;
    for (;;) {
      if (signal?.aborted) {
        report.stopped = true;
        return total;
      }
      const started = performance.now();
      const [, deleted] = await runner.query(sql, params);
      const ms = performance.now() - started;
      report.longestBatchMs = Math.max(report.longestBatchMs, ms);
      if (!deleted) return total;
      total += Number(deleted);
      await new Promise((resolve) => setTimeout(resolve, Math.max(PRUNE_PAUSE_MS, ms)));
    }
  }
}
