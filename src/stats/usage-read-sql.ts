import type { SqlParams } from './sql-params';
import type { ReadPlan, SessionPlan, TimeRange } from './stats-read-plan';
import type { StatsPeriod } from './stats-period';
import { TOP_HASHES_PER_DAY } from './usage-daily-artifacts.repository';

/**
 * The SQL of UsageStatsRepository's reads, built from a ReadPlan with positional parameters
 * (SqlParams). Raw usage_events parts come in three kinds: events not rolled up yet in the
 * rollup days' time (`pending`, id > rolled_up_to), whole parts of partial days (`raw`), and
 * rolled-up events outside the period on partial days read as rollups (`subtract`, negated).
 */

export const REMOTE_HIT = `source = 'REMOTE' AND event = 'HIT'`;

const DAY_MS = 86_400_000;
const shiftDay = (day: string, by: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + by * DAY_MS).toISOString().slice(0, 10);

export interface RawPart {
  range: TimeRange;
  /** '1' or '-1'. */
  sign: string;
  /** The id condition (` AND id ...`), or ''. */
  ids: string;
  /** For a subtracted part: the day whose rollup it is taken off. */
  day?: string;
}

/** The raw usage_events parts a plan reads. */
export function rawParts(plan: ReadPlan, p: SqlParams, rolledUpTo: number): RawPart[] {
  const parts: RawPart[] = [];
  const watermark = () => p.add(rolledUpTo, 'bigint');
  if (plan.pending) parts.push({ range: plan.pending, sign: '1', ids: ` AND id > ${watermark()}` });
  for (const range of plan.raw) parts.push({ range, sign: '1', ids: '' });
  for (const { day, range } of plan.subtract) {
    parts.push({ range, sign: '-1', ids: ` AND id <= ${watermark()}`, day });
  }
  return parts;
}

/** `created_at` (or `column`) within [range.from, range.to). */
export function rangeSql(range: TimeRange, p: SqlParams, column = 'created_at'): string {
  return `${column} >= ${p.add(range.from, 'timestamptz')} AND ${column} < ${p.add(range.to, 'timestamptz')}`;
}

/** The hashes a day contributes to a top list: its TOP_HASHES_PER_DAY with the most hits. */
function dayTopSql(team: string, day: string): string {
  return `SELECT hash, hits, time_saved_ms FROM usage_daily_artifacts
           WHERE team_id = ${team} AND day = ${day}
           ORDER BY hits DESC, time_saved_ms DESC, hash LIMIT ${TOP_HASHES_PER_DAY}`;
}

/**
 * The `limit` hashes with the most REMOTE HIT events in a planned period, as (hash, hits,
 * saved); null when the plan reads nothing. Each rolled-up day contributes the hits of its top
 * TOP_HASHES_PER_DAY hashes only: days up to `trimmedThrough` keep no others (read whole),
 * later ones keep every hash so that their top is right by evening (their top is taken here),
 * so a hash's hits on a day where it ranked lower are left out; raw parts count every hash.
 * Exact whenever no day had more hashes than that.
 */
export function topHashesSql(
  plan: ReadPlan,
  p: SqlParams,
  state: { teamId: string; rolledUpTo: number; trimmedThrough: string | null },
  limit: number,
): string | null {
  const team = p.add(state.teamId);
  const parts = rawParts(plan, p, state.rolledUpTo).map(({ range, sign, ids, day }) => {
    // Hits taken off a day's rollup: only of the hashes that day contributes.
    const kept = day
      ? ` AND hash IN (SELECT hash FROM (${dayTopSql(team, p.add(day, 'date'))}) AS top)`
      : '';
    return `
      SELECT hash, ${sign} * count(*), ${sign} * COALESCE(sum(duration_ms), 0)
        FROM usage_events
       WHERE team_id = ${team} AND ${rangeSql(range, p)} AND ${REMOTE_HIT}${ids}${kept}
       GROUP BY hash`;
  });
  if (plan.rollupDays) {
    const { first, last } = plan.rollupDays;
    const trimmed = state.trimmedThrough;
    if (trimmed !== null && first <= trimmed) {
      parts.push(`
        SELECT hash, hits, time_saved_ms FROM usage_daily_artifacts
         WHERE team_id = ${team}
           AND day BETWEEN ${p.add(first, 'date')} AND ${p.add(last < trimmed ? last : trimmed, 'date')}`);
    }
    const open = trimmed !== null && trimmed >= first ? shiftDay(trimmed, 1) : first;
    if (open <= last) {
      parts.push(`
        SELECT top.hash, top.hits, top.time_saved_ms
          FROM generate_series(${p.add(open, 'date')}, ${p.add(last, 'date')}, interval '1 day') AS d (day)
         CROSS JOIN LATERAL (${dayTopSql(team, 'd.day::date')}) AS top`);
    }
  }
  if (parts.length === 0) return null;
  return `SELECT hash, sum(hits) AS hits, sum(saved) AS saved
            FROM (${parts.join(' UNION ALL ')}) AS parts (hash, hits, saved)
           GROUP BY hash HAVING sum(hits) > 0
           ORDER BY hits DESC, saved DESC, hash LIMIT ${p.add(limit, 'int')}`;
}

/** The session count of a SessionPlan's days (see UsageStatsRepository.sessions). */
export function sessionSql(
  days: NonNullable<SessionPlan['days']>,
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
