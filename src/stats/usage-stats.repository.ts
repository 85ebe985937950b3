import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SqlParams } from './sql-params';
import { rangeSql, rawParts, REMOTE_HIT, sessionSql, topHashesSql } from './usage-read-sql';
import { type PlanContext, planRead, planSessions, type ReadPlan } from './stats-read-plan';
import type { StatsPeriod } from './stats-period';

/** Rolled-up and raw usage events of one UTC day and client CI ('' = interactive). */
export interface DayClientCounts {
  day: string;
  clientCi: string;
  remoteHits: number;
  remoteMisses: number;
  localHits: number;
  localMisses: number;
  timeSavedMs: number;
}

export interface ClientSessions {
  clientCi: string;
  sessions: number;
}

export interface HashHits {
  hash: string;
  hits: number;
  timeSavedMs: number;
}

/** What the usage events say about a period, read in one snapshot. */
export interface UsageInPeriod {
  /** One row per day and client CI with events. */
  counts: DayClientCounts[];
  /** Distinct sessions per client CI. */
  sessions: ClientSessions[];
  /** The hashes with the most remote hits, most first (see topHashes for the bound). */
  top: HashHits[];
}

/** Where the rollups stand: see UsageRollupState. */
export interface RollupStateRow {
  rolledUpTo: number;
  eventsKeptFrom: Date | null;
  /** `YYYY-MM-DD`, or null before the first trim. */
  topArtifactsTrimmedThrough: string | null;
}

const UTC_DAY = `(created_at AT TIME ZONE 'UTC')::date`;
/** The rollup columns of usage events, as aggregates multiplied by `sign` (1 or -1). */
const signedCounts = (sign: string) => `
  ${sign} * count(*) FILTER (WHERE ${REMOTE_HIT}),
  ${sign} * count(*) FILTER (WHERE source = 'REMOTE' AND event = 'MISS'),
  ${sign} * count(*) FILTER (WHERE source = 'LOCAL' AND event = 'HIT'),
  ${sign} * count(*) FILTER (WHERE source = 'LOCAL' AND event = 'MISS'),
  ${sign} * COALESCE(sum(duration_ms) FILTER (WHERE ${REMOTE_HIT}), 0)`;

const num = (value: unknown) => Number(value ?? 0);

/**
 * The statistics' reads of usage events: the rollups (usage_daily_counts, usage_session_days,
 * usage_daily_artifacts) for whole days, raw usage_events for the rest (ReadPlan), so that a
 * period's numbers equal a count of its raw events. All in one REPEATABLE READ transaction: the
 * rollups and rolled_up_to are seen as one (UsageRollupJob moves both in one transaction).
 */
@Injectable()
export class UsageStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The usage of `teamId` in `period`; `topLimit` hashes at most. */
  async read(teamId: string, period: StatsPeriod, topLimit: number): Promise<UsageInPeriod> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const state = await readRollupState(manager);
      const context: PlanContext = { now: new Date(), rawKeptFrom: state.eventsKeptFrom };
      const plan = planRead(period, context);
      const counts = await this.counts(manager, teamId, plan, state.rolledUpTo);
      const sessions = await this.sessions(manager, teamId, period, context, state.rolledUpTo);
      const top = await this.topHashes(manager, teamId, plan, state, topLimit);
      return { counts, sessions, top };
    });
  }

  private async counts(
    manager: EntityManager,
    teamId: string,
    plan: ReadPlan,
    rolledUpTo: number,
  ): Promise<DayClientCounts[]> {
    const p = new SqlParams();
    const team = p.add(teamId);
    const parts = rawParts(plan, p, rolledUpTo).map(
      ({ range, sign, ids }) => `
        SELECT ${UTC_DAY} AS day, COALESCE(client_ci, '') AS client_ci, ${signedCounts(sign)}
          FROM usage_events
         WHERE team_id = ${team} AND ${rangeSql(range, p)}${ids}
         GROUP BY 1, 2`,
    );
    if (plan.rollupDays) {
      parts.push(`
        SELECT day, client_ci, remote_hits, remote_misses, local_hits, local_misses, time_saved_ms
          FROM usage_daily_counts
         WHERE team_id = ${team}
           AND day BETWEEN ${p.add(plan.rollupDays.first, 'date')} AND ${p.add(plan.rollupDays.last, 'date')}`);
    }
    if (parts.length === 0) return [];
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT day::text AS day, client_ci, sum(rh) AS rh, sum(rm) AS rm, sum(lh) AS lh,
              sum(lm) AS lm, sum(saved) AS saved
         FROM (${parts.join(' UNION ALL ')}) AS parts (day, client_ci, rh, rm, lh, lm, saved)
        GROUP BY 1, 2`,
      p.values,
    );
    return rows.map((r) => ({
      day: String(r.day),
      clientCi: String(r.client_ci),
      remoteHits: num(r.rh),
      remoteMisses: num(r.rm),
      localHits: num(r.lh),
      localMisses: num(r.lm),
      timeSavedMs: num(r.saved),
    }));
  }

  /**
   * Distinct (client CI, session) pairs with an event in the period, per client CI. From the
   * rollups: the days' session counts, plus the first and last day's session rows that the
   * period's time covers, minus the rows whose previous day with the same session is counted
   * too (so a session spanning midnight counts once), plus the sessions of events not rolled
   * up yet that none of those rows has.
   */
  private async sessions(
    manager: EntityManager,
    teamId: string,
    period: StatsPeriod,
    context: PlanContext,
    rolledUpTo: number,
  ): Promise<ClientSessions[]> {
    const plan = planSessions(period, context);
    const p = new SqlParams();
    const team = p.add(teamId);
    let sql: string;
    if (plan.raw || !plan.days) {
      const range = plan.raw ?? period;
      sql = `SELECT COALESCE(client_ci, '') AS client_ci, count(DISTINCT session_id) AS n
               FROM usage_events WHERE team_id = ${team} AND ${rangeSql(range, p)} GROUP BY 1`;
    } else {
      sql = sessionSql(plan.days, p, team, period, rolledUpTo);
    }
    const rows: Record<string, unknown>[] = await manager.query(sql, p.values);
    return rows.map((r) => ({ clientCi: String(r.client_ci), sessions: num(r.n) }));
  }

  /** The hashes with the most REMOTE HIT events in the period (topHashesSql: the bound). */
  private async topHashes(
    manager: EntityManager,
    teamId: string,
    plan: ReadPlan,
    state: RollupStateRow,
    limit: number,
  ): Promise<HashHits[]> {
    const p = new SqlParams();
    const sql = topHashesSql(
      plan,
      p,
      { teamId, rolledUpTo: state.rolledUpTo, trimmedThrough: state.topArtifactsTrimmedThrough },
      limit,
    );
    if (!sql) return [];
    const rows: Record<string, unknown>[] = await manager.query(sql, p.values);
    return rows.map((r) => ({
      hash: String(r.hash),
      hits: num(r.hits),
      timeSavedMs: num(r.saved),
    }));
  }
}

/** Reads usage_rollup_state in `manager`'s transaction. */
export async function readRollupState(manager: EntityManager): Promise<RollupStateRow> {
  const [row] = await manager.query(
    `SELECT rolled_up_to, events_kept_from, top_artifacts_trimmed_through::text AS trimmed
       FROM usage_rollup_state WHERE id = 1`,
  );
  return {
    rolledUpTo: num(row?.rolled_up_to),
    eventsKeptFrom: row?.events_kept_from ? new Date(row.events_kept_from) : null,
    topArtifactsTrimmedThrough: row?.trimmed ?? null,
  };
}
