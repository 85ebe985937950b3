import { Injectable } from '@nestjs/common';
import { AppException } from '../common/app-exception';
import { TeamsService } from '../teams/teams.service';
import { artifactPeriodTotals } from './artifact-period';
import { ArtifactStatsRepository } from './artifact-stats.repository';
import { CacheRequestCountsRepository } from './cache-request-counts.repository';
import {
  ClientBreakdown,
  clientBreakdown,
  dailySeries,
  DailyStats,
  PeriodTotals,
  periodTotals,
} from './stats-math';
import { InvalidPeriodError, parsePeriod, StatsPeriod, utcDays } from './stats-period';
import { totalStorage, ToolSplit, toolSplit } from './tool-split';
import { clientEventRows, dailyEventRows } from './usage-period';
import { type HashHits, UsageStatsRepository } from './usage-stats.repository';

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

/** Team statistics for the admin API, the CLI and the admin UI. */
@Injectable()
export class StatsService {
  constructor(
    private readonly teams: TeamsService,
    private readonly requestCounts: CacheRequestCountsRepository,
    private readonly usage: UsageStatsRepository,
    private readonly artifacts: ArtifactStatsRepository,
  ) {}

  /**
   * `from`/`to` as the request gave them (ISO dates; 400 when unreadable). Usage events come
   * from the rollups and the raw events not rolled up (UsageStatsRepository), artifacts from
   * their day totals (ArtifactStatsRepository): the same numbers as counting the raw rows,
   * except for the top artifacts' bound (docs/cli.md, "Statistics").
   */
  async teamStats(teamRef: string, from?: string, to?: string): Promise<TeamStats> {
    const period = periodOf(from, to);
    const team = await this.teams.get(teamRef);
    const days = utcDays(period);
    const [usage, artifactRead, serverCounts] = await Promise.all([
      this.usage.read(team.id, period, TOP_ARTIFACTS),
      this.artifacts.read(team.id, period),
      this.requestCounts.totalsByTool(team.id, days[0], days[days.length - 1]),
    ]);
    const stored = artifactPeriodTotals(period, artifactRead);
    const daily = dailySeries(
      period,
      dailyEventRows(usage.counts),
      stored.daily,
      stored.storedBefore,
    );
    const clients = clientBreakdown(clientEventRows(usage.counts, usage.sessions), stored.clients);
    const totals = periodTotals(daily);
    return {
      team: { id: team.id, slug: team.slug, name: team.name },
      period: { from: period.from.toISOString(), to: period.to.toISOString() },
      storage: totalStorage(stored.stored),
      ...totals,
      sessions: clients.ci.sessions + clients.interactive.sessions,
      topArtifacts: await this.withSizes(team.id, usage.top),
      clients,
      daily,
      tools: toolSplit({
        turboRemote: totals.remote,
        stored: stored.stored,
        uploaded: stored.tools,
        nxCounts: serverCounts.nx,
      }),
    };
  }

  /** The top hashes with the size of their trusted artifact (null once it is gone). */
  private async withSizes(teamId: string, top: HashHits[]): Promise<TopArtifact[]> {
    const sizes = await this.artifacts.trustedSizes(
      teamId,
      top.map((t) => t.hash),
    );
    return top.map((t) => ({ ...t, size: sizes.get(t.hash) ?? null }));
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
