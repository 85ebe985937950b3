import type { ArtifactDayRow, ArtifactsInPeriod, PlannedRows } from './artifact-stats.repository';
import type { ClientUploadRow, DailyUploadRow } from './stats-math';
import { type StatsPeriod, utcDays } from './stats-period';
import type { ToolStorageRow, ToolUploadRow } from './tool-split';

/** The artifact side of a period's stats, in the shapes of stats-math and tool-split. */
export interface ArtifactPeriodTotals {
  /** What is stored now, per tool. */
  stored: ToolStorageRow[];
  /** Bytes stored now that were uploaded before the period. */
  storedBefore: number;
  /** Uploads in the period (still stored) per UTC day, per client CI (null: none), per tool. */
  daily: DailyUploadRow[];
  clients: ClientUploadRow[];
  tools: ToolUploadRow[];
}

const negate = (row: ArtifactDayRow): ArtifactDayRow => ({
  ...row,
  artifacts: -row.artifacts,
  bytes: -row.bytes,
});

/**
 * The rows of a planned period: the stored rows of its rollup days, plus the raw rows of the
 * part inside it of `raw` edge days, less the raw rows outside it of `subtract` edge days.
 */
export function rowsOfPlan(stored: ArtifactDayRow[], { plan, inside, outside }: PlannedRows) {
  const days = plan.rollupDays;
  const whole = days ? stored.filter((r) => r.day >= days.first && r.day <= days.last) : [];
  return [...whole, ...inside, ...outside.map(negate)];
}

/** Sums `rows` by `key`: [key, artifacts, bytes], without keys that sum to nothing. */
function sumBy<K>(rows: ArtifactDayRow[], key: (row: ArtifactDayRow) => K) {
  const sums = new Map<K, { artifacts: number; bytes: number }>();
  for (const row of rows) {
    const sum = sums.get(key(row)) ?? { artifacts: 0, bytes: 0 };
    sum.artifacts += row.artifacts;
    sum.bytes += row.bytes;
    sums.set(key(row), sum);
  }
  return [...sums].filter(([, sum]) => sum.artifacts !== 0 || sum.bytes !== 0);
}

/** Storage, uploads per day, client and tool, and storedBefore, from the artifact reads. */
export function artifactPeriodTotals(
  period: StatsPeriod,
  read: ArtifactsInPeriod,
): ArtifactPeriodTotals {
  const firstDay = utcDays(period)[0];
  const inPeriod = rowsOfPlan(read.stored, read.period);
  const before = read.before ? rowsOfPlan(read.stored, read.before) : [];
  const earlier = read.stored.filter((r) => r.day < firstDay);
  return {
    stored: sumBy(read.stored, (r) => r.tool).map(([tool, s]) => ({ tool, ...s })),
    storedBefore: [...earlier, ...before].reduce((sum, r) => sum + r.bytes, 0),
    daily: sumBy(inPeriod, (r) => r.day).map(([day, s]) => ({
      day,
      uploads: s.artifacts,
      bytes: s.bytes,
    })),
    clients: sumBy(inPeriod, (r) => r.clientCi).map(([ci, s]) => ({
      clientCi: ci === '' ? null : ci,
      uploads: s.artifacts,
    })),
    tools: sumBy(inPeriod, (r) => r.tool).map(([tool, s]) => ({ tool, uploads: s.artifacts })),
  };
}
