import { Inject, Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/** Raw events deleted per statement: each is its own short transaction. */
export const EVENT_PRUNE_BATCH = 20_000;
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
 * ingestion and stats never wait long.
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
  async prune(runner: QueryRunner, now: Date = new Date()): Promise<UsagePruneReport> {
    const report: UsagePruneReport = { events: 0, rollupRows: 0, longestBatchMs: 0 };
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
    const teams: { id: string }[] = await runner.query('SELECT id FROM teams ORDER BY id');
    for (const team of teams) {
      report.events += await this.drain(
        runner,
        report,
        `DELETE FROM usage_events WHERE id IN (
           SELECT id FROM usage_events
            WHERE team_id = $1 AND created_at < $2 AND id <= $3 LIMIT $4)`,
        [team.id, eventsBefore, rolledUpTo, EVENT_PRUNE_BATCH],
      );
    }
    const rollupsBefore = utcMidnightDaysBefore(now, this.rollupDays).toISOString().slice(0, 10);
    for (const [table, key] of [
      ['usage_daily_counts', 'team_id, day, client_ci'],
      ['usage_session_days', 'team_id, client_ci, session_id, day'],
      ['usage_daily_artifacts', 'team_id, day, hash'],
    ]) {
      report.rollupRows += await this.drain(
        runner,
        report,
        `DELETE FROM ${table} WHERE (${key}) IN (
           SELECT ${key} FROM ${table} WHERE day < $1::date LIMIT $2)`,
        [rollupsBefore, ROLLUP_PRUNE_BATCH],
      );
    }
    return report;
  }

  /** Runs `sql` (a batched DELETE) until it deletes nothing; returns the rows deleted. */
  private async drain(
    runner: QueryRunner,
    report: UsagePruneReport,
    sql: string,
    params: unknown[],
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const started = performance.now();
      const [, deleted] = await runner.query(sql, params);
      report.longestBatchMs = Math.max(report.longestBatchMs, performance.now() - started);
      if (!deleted) return total;
      total += Number(deleted);
    }
  }
}
