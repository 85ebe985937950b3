import type { DataSource } from 'typeorm';
import { type CacheTool, toolOfHashSql } from '../../src/storage/blob-keys';
import {
  clientBreakdown,
  dailySeries,
  periodTotals,
  type ClientEventRow,
} from '../../src/stats/stats-math';
import type { StatsPeriod } from '../../src/stats/stats-period';
import { totalStorage } from '../../src/stats/tool-split';

const num = (value: unknown) => Number(value ?? 0);
const PERIOD = 'team_id = $1 AND created_at >= $2 AND created_at < $3';
const UTC_DAY = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
const REMOTE_HIT = `source = 'REMOTE' AND event = 'HIT'`;
const EVENT_COUNTS = `
  count(*) FILTER (WHERE ${REMOTE_HIT}) AS remote_hits,
  count(*) FILTER (WHERE source = 'REMOTE' AND event = 'MISS') AS remote_misses,
  count(*) FILTER (WHERE source = 'LOCAL' AND event = 'HIT') AS local_hits,
  count(*) FILTER (WHERE source = 'LOCAL' AND event = 'MISS') AS local_misses`;

/**
 * A team's stats counted from the raw rows alone, with the queries StatsService ran before
 * rollups (usage_events and artifacts at request time): the reference the rollup path must
 * equal. Leaves out what does not come from those rows (`team`, `tools`' Nx counts).
 */
export async function rawTeamStats(db: DataSource, teamId: string, period: StatsPeriod) {
  const params = [teamId, period.from, period.to];
  const [storage, before, dailyEvents, dailyUploads, top, clientEvents, clientUploads, tools] =
    await Promise.all([
      db.query(
        `SELECT ${toolOfHashSql('hash')} AS tool, count(*) AS artifacts, COALESCE(sum(size), 0) AS bytes
           FROM artifacts WHERE team_id = $1 GROUP BY 1`,
        [teamId],
      ),
      db.query(
        'SELECT COALESCE(sum(size), 0) AS bytes FROM artifacts WHERE team_id = $1 AND created_at < $2',
        [teamId, period.from],
      ),
      db.query(
        `SELECT ${UTC_DAY} AS day, ${EVENT_COUNTS},
                COALESCE(sum(duration_ms) FILTER (WHERE ${REMOTE_HIT}), 0) AS saved
           FROM usage_events WHERE ${PERIOD} GROUP BY 1`,
        params,
      ),
      db.query(
        `SELECT ${UTC_DAY} AS day, count(*) AS uploads, COALESCE(sum(size), 0) AS bytes
           FROM artifacts WHERE ${PERIOD} GROUP BY 1`,
        params,
      ),
      db.query(
        `SELECT e.hash, count(*) AS hits, COALESCE(sum(e.duration_ms), 0) AS saved, min(a.size) AS size
           FROM usage_events e
           LEFT JOIN artifacts a ON a.team_id = e.team_id AND a.hash = e.hash AND a.overlay_scope = ''
          WHERE e.team_id = $1 AND e.created_at >= $2 AND e.created_at < $3 AND e.${REMOTE_HIT}
          GROUP BY e.hash ORDER BY hits DESC, saved DESC, e.hash LIMIT 10`,
        params,
      ),
      db.query(
        `SELECT client_ci, count(DISTINCT session_id) AS sessions, ${EVENT_COUNTS}
           FROM usage_events WHERE ${PERIOD} GROUP BY client_ci`,
        params,
      ),
      db.query(
        `SELECT client_ci, count(*) AS uploads FROM artifacts WHERE ${PERIOD} GROUP BY client_ci`,
        params,
      ),
      db.query(
        `SELECT ${toolOfHashSql('hash')} AS tool, count(*) AS uploads FROM artifacts
          WHERE ${PERIOD} GROUP BY 1`,
        params,
      ),
    ]);
  type Row = Record<string, unknown>;
  const daily = dailySeries(
    period,
    (dailyEvents as Row[]).map((r) => ({
      day: String(r.day),
      remoteHits: num(r.remote_hits),
      remoteMisses: num(r.remote_misses),
      localHits: num(r.local_hits),
      localMisses: num(r.local_misses),
      timeSavedMs: num(r.saved),
    })),
    (dailyUploads as Row[]).map((r) => ({
      day: String(r.day),
      uploads: num(r.uploads),
      bytes: num(r.bytes),
    })),
    num(before[0].bytes),
  );
  const clients = clientBreakdown(
    (clientEvents as Row[]).map((r): ClientEventRow => ({
      clientCi: (r.client_ci as string | null) ?? null,
      sessions: num(r.sessions),
      remoteHits: num(r.remote_hits),
      remoteMisses: num(r.remote_misses),
      localHits: num(r.local_hits),
      localMisses: num(r.local_misses),
    })),
    (clientUploads as Row[]).map((r) => ({
      clientCi: (r.client_ci as string | null) ?? null,
      uploads: num(r.uploads),
    })),
  );
  const stored = (storage as Row[]).map((r) => ({
    tool: r.tool as CacheTool,
    artifacts: num(r.artifacts),
    bytes: num(r.bytes),
  }));
  const toolUploads = new Map((tools as Row[]).map((r) => [String(r.tool), num(r.uploads)]));
  return {
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    storage: totalStorage(stored),
    ...periodTotals(daily),
    sessions: clients.ci.sessions + clients.interactive.sessions,
    topArtifacts: (top as Row[]).map((r) => ({
      hash: String(r.hash),
      hits: num(r.hits),
      timeSavedMs: num(r.saved),
      size: r.size === null ? null : num(r.size),
    })),
    clients,
    daily,
    tools: Object.fromEntries(
      (['turbo', 'nx'] as const).map((tool) => {
        const s = stored.find((row) => row.tool === tool);
        const storage = { artifacts: s?.artifacts ?? 0, bytes: s?.bytes ?? 0 };
        return [tool, { storage, uploads: toolUploads.get(tool) ?? 0 }];
      }),
    ),
  };
}
