import type { CacheTool } from '../storage/blob-keys';
import type { RequestCounts } from './cache-request-counts.repository';
import { hitRate, type PeriodTotals } from './stats-math';

/**
 * One client tool's share of a team's usage in a period. Each tool is counted from the best
 * source it has: turbo reports its hits, misses and task durations as usage events; Nx reports
 * nothing, so the server counts its requests (cache_request_counts).
 */
export interface ToolUsage {
  /** Where hits, misses and uploads come from: turbo's own reports, or the server's count. */
  countedBy: 'client-events' | 'server';
  /** Remote lookups served from the cache (turbo: REMOTE HIT events; nx: GETs answered 200). */
  hits: number;
  /** Remote lookups not found (turbo: REMOTE MISS events; nx: GETs answered 404). */
  misses: number;
  /** hits / (hits + misses), 4 decimals; null without lookups. */
  hitRate: number | null;
  /** Task time saved by remote hits, in ms; null for a tool that does not report it (nx). */
  timeSavedMs: number | null;
  /**
   * Uploads in the period (turbo: artifacts uploaded in the period and still stored, as the
   * top-level `uploads`; nx: PUTs stored, whatever became of them since).
   */
  uploads: number;
  /**
   * Uploads refused once the team was known (nx: PUTs answered 403, 409, 413, 400/411); null
   * for a tool whose refusals are not counted (turbo).
   */
  refusedUploads: number | null;
  /** What is stored of this tool now, whatever the period: artifact count and bytes. */
  storage: { artifacts: number; bytes: number };
}

/** `tools` of TeamStats: every tool, present with zeros when it was not used. */
export type ToolSplit = Record<CacheTool, ToolUsage>;

/** Stored artifacts of one tool (artifacts rows, by toolOfHashSql). */
export interface ToolStorageRow {
  tool: CacheTool;
  artifacts: number;
  bytes: number;
}

/** Artifacts of one tool uploaded in the period and still stored. */
export interface ToolUploadRow {
  tool: CacheTool;
  uploads: number;
}

export interface ToolSplitInput {
  /** The period's totals of turbo's usage events (periodTotals(...).remote). */
  turboRemote: PeriodTotals['remote'];
  stored: ToolStorageRow[];
  uploaded: ToolUploadRow[];
  /** The server's counts of Nx requests in the period's days; undefined when there were none. */
  nxCounts: RequestCounts | undefined;
}

/** Per tool: turbo from its usage events and artifacts, nx from the server's counts. */
export function toolSplit({ turboRemote, stored, uploaded, nxCounts }: ToolSplitInput): ToolSplit {
  const storageOf = (tool: CacheTool) => {
    const row = stored.find((r) => r.tool === tool);
    return { artifacts: row?.artifacts ?? 0, bytes: row?.bytes ?? 0 };
  };
  const nx = nxCounts ?? { hits: 0, misses: 0, uploads: 0, refusedUploads: 0 };
  return {
    turbo: {
      countedBy: 'client-events',
      hits: turboRemote.hits,
      misses: turboRemote.misses,
      hitRate: turboRemote.hitRate,
      timeSavedMs: turboRemote.timeSavedMs,
      uploads: uploaded.find((r) => r.tool === 'turbo')?.uploads ?? 0,
      refusedUploads: null,
      storage: storageOf('turbo'),
    },
    nx: {
      countedBy: 'server',
      hits: nx.hits,
      misses: nx.misses,
      hitRate: hitRate(nx.hits, nx.misses),
      timeSavedMs: null,
      uploads: nx.uploads,
      refusedUploads: nx.refusedUploads,
      storage: storageOf('nx'),
    },
  };
}

/** The team's whole storage: the sum over tools. */
export function totalStorage(stored: ToolStorageRow[]): { artifacts: number; bytes: number } {
  return stored.reduce(
    (sum, row) => ({ artifacts: sum.artifacts + row.artifacts, bytes: sum.bytes + row.bytes }),
    { artifacts: 0, bytes: 0 },
  );
}
