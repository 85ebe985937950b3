import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import { type CacheTool, toolOfHashSql } from '../storage/blob-keys';
import { TeamsService } from '../teams/teams.service';
import { CacheRequestCountsRepository } from './cache-request-counts.repository';
import {
  ClientBreakdown,
  clientBreakdown,
  ClientEventRow,
  ClientUploadRow,
  DailyEventRow,
  dailySeries,
  DailyStats,
  DailyUploadRow,
  PeriodTotals,
  periodTotals,
} from './stats-math';
import { InvalidPeriodError, parsePeriod, StatsPeriod, utcDays } from './stats-period';
import { totalStorage, ToolSplit, toolSplit, ToolStorageRow, ToolUploadRow } from './tool-split';

export const TOP_ARTIFACTS = 10;

/** Turbo's artifacts only: the hits come from usage events, which Nx does not send. */
export interface TopArtifact {
  hash: string;
  /** REMOTE HIT events in the period. */
  hits: number;
  timeSavedMs: number;
  /** null once the artifact is no longer stored. */
  size: number | null;
}

/**
 * A team's usage in a period, from its usage events, artifact metadata and the server's request
 * counts. `remote`, `local`, `sessions`, `topArtifacts`, `clients` and the lookups and time saved
 * of `daily` come from turbo's usage events (Nx sends none); `storage`, `uploads` and the bytes
 * of `daily` from the artifacts of every tool. `tools` splits them by client tool (ToolUsage):
 * `{ turbo: {countedBy: 'client-events', hits, misses, hitRate, timeSavedMs, uploads,
 * refusedUploads: null, storage: {artifacts, bytes}}, nx: {countedBy: 'server', hits, misses,
 * hitRate, timeSavedMs: null, uploads, refusedUploads, storage} }`. Nx's counts are kept per
 * UTC day: a period that starts or ends within a day counts that whole day.
 */
export interface TeamStats extends PeriodTotals {
  team: { id: string; slug: string; name: string };
  period: { from: string; to: string };
  /** What is stored now (every tool), whatever the period. */
  storage: { artifacts: number; bytes: number };
  sessions: number;
  topArtifacts: TopArtifact[];
  clients: ClientBreakdown;
  daily: DailyStats[];
  tools: ToolSplit;
}

/** Counts as numbers: PostgreSQL returns bigint and numeric aggregates as strings. */
const num = (value: unknown) => Number(value ?? 0);

const TOOL = toolOfHashSql('hash');
const PERIOD = 'team_id = $1 AND created_at >= $2 AND created_at < $3';
const UTC_DAY = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
const REMOTE_HIT = `source = 'REMOTE' AND event = 'HIT'`;
const EVENT_COUNTS = `
  count(*) FILTER (WHERE ${REMOTE_HIT}) AS remote_hits,
  count(*) FILTER (WHERE source = 'REMOTE' AND event = 'MISS') AS remote_misses,
  count(*) FILTER (WHERE source = 'LOCAL' AND event = 'HIT') AS local_hits,
  count(*) FILTER (WHERE source = 'LOCAL' AND event = 'MISS') AS local_misses`;

/** Team statistics for the admin API, the CLI and the admin UI. */
@Injectable()
export class StatsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly teams: TeamsService,
    private readonly requestCounts: CacheRequestCountsRepository,
  ) {}

  /** `from`/`to` as the request gave them (ISO dates; 400 when unreadable). */
  async teamStats(teamRef: string, from?: string, to?: string): Promise<TeamStats> {
    const period = periodOf(from, to);
    const team = await this.teams.get(teamRef);
    const params = [team.id, period.from, period.to];
    const days = utcDays(period);
    const [
      storage,
      storedBefore,
      dailyEvents,
      dailyUploads,
      top,
      clientEvents,
      clientUploads,
      toolUploads,
      serverCounts,
    ] = await Promise.all([
      this.dataSource.query(
        `SELECT ${TOOL} AS tool, count(*) AS artifacts, COALESCE(sum(size), 0) AS bytes
           FROM artifacts WHERE team_id = $1 GROUP BY 1`,
        [team.id],
      ),
      this.dataSource.query(
        'SELECT COALESCE(sum(size), 0) AS bytes FROM artifacts WHERE team_id = $1 AND created_at < $2',
        [team.id, period.from],
      ),
      this.dataSource.query(
        `SELECT ${UTC_DAY} AS day, ${EVENT_COUNTS},
                COALESCE(sum(duration_ms) FILTER (WHERE ${REMOTE_HIT}), 0) AS saved
           FROM usage_events WHERE ${PERIOD} GROUP BY 1`,
        params,
      ),
      this.dataSource.query(
        `SELECT ${UTC_DAY} AS day, count(*) AS uploads, COALESCE(sum(size), 0) AS bytes
           FROM artifacts WHERE ${PERIOD} GROUP BY 1`,
        params,
      ),
      this.dataSource.query(
        `SELECT e.hash, count(*) AS hits, COALESCE(sum(e.duration_ms), 0) AS saved, min(a.size) AS size
           FROM usage_events e
           LEFT JOIN artifacts a ON a.team_id = e.team_id AND a.hash = e.hash AND a.overlay_scope = ''
          WHERE e.team_id = $1 AND e.created_at >= $2 AND e.created_at < $3
            AND e.source = 'REMOTE' AND e.event = 'HIT'
          GROUP BY e.hash ORDER BY hits DESC, saved DESC, e.hash LIMIT ${TOP_ARTIFACTS}`,
        params,
      ),
      this.dataSource.query(
        `SELECT client_ci, count(DISTINCT session_id) AS sessions, ${EVENT_COUNTS}
           FROM usage_events WHERE ${PERIOD} GROUP BY client_ci`,
        params,
      ),
      this.dataSource.query(
        `SELECT client_ci, count(*) AS uploads FROM artifacts WHERE ${PERIOD} GROUP BY client_ci`,
        params,
      ),
      this.dataSource.query(
        `SELECT ${TOOL} AS tool, count(*) AS uploads FROM artifacts WHERE ${PERIOD} GROUP BY 1`,
        params,
      ),
      this.requestCounts.totalsByTool(team.id, days[0], days[days.length - 1]),
    ]);
    const daily = dailySeries(
      period,
      (dailyEvents as Record<string, unknown>[]).map(dailyEventRow),
      (dailyUploads as Record<string, unknown>[]).map((r): DailyUploadRow => ({
        day: String(r.day),
        uploads: num(r.uploads),
        bytes: num(r.bytes),
      })),
      num(storedBefore[0].bytes),
    );
    const clients = clientBreakdown(
      (clientEvents as Record<string, unknown>[]).map(clientEventRow),
      (clientUploads as Record<string, unknown>[]).map((r): ClientUploadRow => ({
        clientCi: nullable(r.client_ci),
        uploads: num(r.uploads),
      })),
    );
    const stored = (storage as Record<string, unknown>[]).map((r): ToolStorageRow => ({
      tool: r.tool as CacheTool,
      artifacts: num(r.artifacts),
      bytes: num(r.bytes),
    }));
    const totals = periodTotals(daily);
    return {
      team: { id: team.id, slug: team.slug, name: team.name },
      period: { from: period.from.toISOString(), to: period.to.toISOString() },
      storage: totalStorage(stored),
      ...totals,
      sessions: clients.ci.sessions + clients.interactive.sessions,
      topArtifacts: (top as Record<string, unknown>[]).map((r) => ({
        hash: String(r.hash),
        hits: num(r.hits),
        timeSavedMs: num(r.saved),
        size: r.size === null ? null : num(r.size),
      })),
      clients,
      daily,
      tools: toolSplit({
        turboRemote: totals.remote,
        stored,
        uploaded: (toolUploads as Record<string, unknown>[]).map((r): ToolUploadRow => ({
          tool: r.tool as CacheTool,
          uploads: num(r.uploads),
        })),
        nxCounts: serverCounts.nx,
      }),
    };
  }
}

function periodOf(from?: string, to?: string): StatsPeriod {
  try {
    return parsePeriod(from, to);
  } catch (error) {
    if (error instanceof InvalidPeriodError) throw AppException.badRequest(error.message);
    throw error;
  }
}

function nullable(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function dailyEventRow(r: Record<string, unknown>): DailyEventRow {
  return {
    day: String(r.day),
    remoteHits: num(r.remote_hits),
    remoteMisses: num(r.remote_misses),
    localHits: num(r.local_hits),
    localMisses: num(r.local_misses),
    timeSavedMs: num(r.saved),
  };
}

function clientEventRow(r: Record<string, unknown>): ClientEventRow {
  return {
    clientCi: nullable(r.client_ci),
    sessions: num(r.sessions),
    remoteHits: num(r.remote_hits),
    remoteMisses: num(r.remote_misses),
    localHits: num(r.local_hits),
    localMisses: num(r.local_misses),
  };
}
