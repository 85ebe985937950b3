import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { SqlParams } from './sql-params';
import {
  type PlanContext,
  planRead,
  planSessions,
  type ReadPlan,
  type TimeRange,
} from './stats-read-plan';
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
}

const REMOTE_HIT = `source = 'REMOTE' AND event = 'HIT'`;
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
      const top = await this.topHashes(manager, teamId, plan, state.rolledUpTo, topLimit);
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

  /**
   * The hashes with the most REMOTE HIT events in the period. Exact where the days keep every
   * hash (today, yesterday); an older day keeps its top TOP_HASHES_PER_DAY only, so a hash
   * counts there only if it ranked among them that day.
   */
  private async topHashes(
    manager: EntityManager,
    teamId: string,
    plan: ReadPlan,
    rolledUpTo: number,
    limit: number,
  ): Promise<HashHits[]> {
    const p = new SqlParams();
    const team = p.add(teamId);
    const parts = rawParts(plan, p, rolledUpTo).map(({ range, sign, ids, day }) => {
      // Taking hits off a day's rollup only makes sense for the hashes that day kept.
      const kept = day
        ? ` AND hash IN (SELECT hash FROM usage_daily_artifacts
                          WHERE team_id = ${team} AND day = ${p.add(day, 'date')})`
        : '';
      return `
        SELECT hash, ${sign} * count(*), ${sign} * COALESCE(sum(duration_ms), 0)
          FROM usage_events
         WHERE team_id = ${team} AND ${rangeSql(range, p)} AND ${REMOTE_HIT}${ids}${kept}
         GROUP BY hash`;
    });
    if (plan.rollupDays) {
      parts.push(`
        SELECT hash, hits, time_saved_ms FROM usage_daily_artifacts
         WHERE team_id = ${team}
           AND day BETWEEN ${p.add(plan.rollupDays.first, 'date')} AND ${p.add(plan.rollupDays.last, 'date')}`);
    }
    if (parts.length === 0) return [];
    const rows: Record<string, unknown>[] = await manager.query(
      `SELECT hash, sum(hits) AS hits, sum(saved) AS saved
         FROM (${parts.join(' UNION ALL ')}) AS parts (hash, hits, saved)
        GROUP BY hash HAVING sum(hits) > 0
        ORDER BY hits DESC, saved DESC, hash LIMIT ${p.add(limit, 'int')}`,
      p.values,
    );
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
    'SELECT rolled_up_to, events_kept_from FROM usage_rollup_state WHERE id = 1',
  );
  return {
    rolledUpTo: num(row?.rolled_up_to),
    eventsKeptFrom: row?.events_kept_from ? new Date(row.events_kept_from) : null,
  };
}

interface RawPart {
  range: TimeRange;
  /** '1' or '-1'. */
  sign: string;
  /** The id condition (` AND id ...`), or ''. */
  ids: string;
  /** For a subtracted part: the day whose rollup it is taken off. */
  day?: string;
}

/** The raw usage_events a plan reads: pending (not rolled up), raw (all), subtract (rolled up). */
function rawParts(plan: ReadPlan, p: SqlParams, rolledUpTo: number): RawPart[] {
  const parts: RawPart[] = [];
  const watermark = () => p.add(rolledUpTo, 'bigint');
  if (plan.pending) parts.push({ range: plan.pending, sign: '1', ids: ` AND id > ${watermark()}` });
  for (const range of plan.raw) parts.push({ range, sign: '1', ids: '' });
  for (const { day, range } of plan.subtract) {
    parts.push({ range, sign: '-1', ids: ` AND id <= ${watermark()}`, day });
  }
  return parts;
}

function rangeSql(range: TimeRange, p: SqlParams, column = 'created_at'): string {
  return `${column} >= ${p.add(range.from, 'timestamptz')} AND ${column} < ${p.add(range.to, 'timestamptz')}`;
}

const DAY_MS = 86_400_000;
const shiftDay = (day: string, by: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + by * DAY_MS).toISOString().slice(0, 10);

/** The session count of a SessionPlan's days (see UsageStatsRepository.sessions). */
function sessionSql(
  days: { first: string; last: string; from: Date | null; to: Date | null },
  p: SqlParams,
  team: string,
  period: StatsPeriod,
  rolledUpTo: number,
): string {
  const first = p.add(days.first, 'date');
  const last = p.add(days.last, 'date');
  const from = days.from ? p.add(days.from, 'timestamptz') : null;
  const to = days.to ? p.add(days.to, 'timestamptz') : null;
  // A session row is in the period when its day is, and on a day the period covers in part,
  // when its first or last event is.
  const inPeriod = (s: string) =>
    [
      `${s}.day BETWEEN ${first} AND ${last}`,
      from ? `(${s}.day > ${first} OR ${s}.last_at >= ${from})` : '',
      to ? `(${s}.day < ${last} OR ${s}.first_at < ${to})` : '',
    ]
      .filter(Boolean)
      .join(' AND ');
  const parts: string[] = [];
  const interiorFirst = days.from ? shiftDay(days.first, 1) : days.first;
  const interiorLast = days.to ? shiftDay(days.last, -1) : days.last;
  if (interiorFirst <= interiorLast) {
    parts.push(`
      SELECT client_ci, sessions FROM usage_daily_counts
       WHERE team_id = ${team}
         AND day BETWEEN ${p.add(interiorFirst, 'date')} AND ${p.add(interiorLast, 'date')}`);
  }
  const edgeDays = [...new Set([days.from ? days.first : null, days.to ? days.last : null])];
  const edges = edgeDays.filter((day): day is string => day !== null);
  if (edges.length > 0) {
    parts.push(`
      SELECT s.client_ci, count(*) FROM usage_session_days s
       WHERE s.team_id = ${team} AND s.day = ANY(${p.add(edges, 'date[]')}) AND ${inPeriod('s')}
       GROUP BY 1`);
  }
  // Rows whose previous day's row is in the period too: that session is counted already.
  parts.push(`
    SELECT r.client_ci, -count(*) FROM usage_session_days r
      JOIN usage_session_days prev
        ON prev.team_id = r.team_id AND prev.client_ci = r.client_ci
       AND prev.session_id = r.session_id AND prev.day = r.prev_day
     WHERE r.team_id = ${team} AND r.prev_day IS NOT NULL AND r.day > ${first}
       AND ${inPeriod('r')} AND ${inPeriod('prev')}
     GROUP BY 1`);
  parts.push(`
    SELECT k.client_ci, count(*) FROM (
      SELECT DISTINCT COALESCE(client_ci, '') AS client_ci, session_id FROM usage_events
       WHERE team_id = ${team} AND ${rangeSql(period, p)} AND id > ${p.add(rolledUpTo, 'bigint')}
    ) k
     WHERE NOT EXISTS (
       SELECT 1 FROM usage_session_days s
        WHERE s.team_id = ${team} AND s.client_ci = k.client_ci AND s.session_id = k.session_id
          AND ${inPeriod('s')})
     GROUP BY 1`);
  return `SELECT client_ci, sum(n) AS n
            FROM (${parts.join(' UNION ALL ')}) AS parts (client_ci, n)
           GROUP BY 1`;
}
