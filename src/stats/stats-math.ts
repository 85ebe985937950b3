import { StatsPeriod, utcDays } from './stats-period';

/** Events of one UTC day, as the daily query groups them. */
export interface DailyEventRow {
  day: string;
  remoteHits: number;
  remoteMisses: number;
  localHits: number;
  localMisses: number;
  timeSavedMs: number;
}

/** Uploads of one UTC day (artifacts still stored, by the day they were uploaded). */
export interface DailyUploadRow {
  day: string;
  uploads: number;
  bytes: number;
}

export interface DailyStats {
  date: string;
  remoteHits: number;
  remoteMisses: number;
  /** hits / (hits + misses), null on a day without remote lookups. */
  hitRate: number | null;
  localHits: number;
  localMisses: number;
  timeSavedMs: number;
  uploads: number;
  uploadedBytes: number;
  /** Bytes of the artifacts still stored that had been uploaded by the end of this day. */
  storedBytes: number;
}

export interface CacheTotals {
  hits: number;
  misses: number;
  hitRate: number | null;
}

/** A share in [0, 1], rounded to 4 decimals; null when nothing was looked up. */
export function hitRate(hits: number, misses: number): number | null {
  const total = hits + misses;
  return total === 0 ? null : Math.round((hits / total) * 10_000) / 10_000;
}

/**
 * One entry per UTC day of the period, zeros where nothing happened. `storedBefore` is the
 * size of what is still stored and was uploaded before the period; each day adds its uploads.
 */
export function dailySeries(
  period: StatsPeriod,
  events: DailyEventRow[],
  uploads: DailyUploadRow[],
  storedBefore: number,
): DailyStats[] {
  const eventsByDay = new Map(events.map((row) => [row.day, row]));
  const uploadsByDay = new Map(uploads.map((row) => [row.day, row]));
  let stored = storedBefore;
  return utcDays(period).map((date) => {
    const e = eventsByDay.get(date);
    const u = uploadsByDay.get(date);
    stored += u?.bytes ?? 0;
    return {
      date,
      remoteHits: e?.remoteHits ?? 0,
      remoteMisses: e?.remoteMisses ?? 0,
      hitRate: hitRate(e?.remoteHits ?? 0, e?.remoteMisses ?? 0),
      localHits: e?.localHits ?? 0,
      localMisses: e?.localMisses ?? 0,
      timeSavedMs: e?.timeSavedMs ?? 0,
      uploads: u?.uploads ?? 0,
      uploadedBytes: u?.bytes ?? 0,
      storedBytes: stored,
    };
  });
}

export interface PeriodTotals {
  remote: CacheTotals & { timeSavedMs: number };
  local: CacheTotals;
  uploads: { count: number; bytes: number };
}

/** The period's totals: the sums of its days, so the summary always agrees with the series. */
export function periodTotals(days: DailyStats[]): PeriodTotals {
  const sum = (pick: (day: DailyStats) => number) => days.reduce((n, day) => n + pick(day), 0);
  const remoteHits = sum((d) => d.remoteHits);
  const remoteMisses = sum((d) => d.remoteMisses);
  const localHits = sum((d) => d.localHits);
  const localMisses = sum((d) => d.localMisses);
  return {
    remote: {
      hits: remoteHits,
      misses: remoteMisses,
      hitRate: hitRate(remoteHits, remoteMisses),
      timeSavedMs: sum((d) => d.timeSavedMs),
    },
    local: { hits: localHits, misses: localMisses, hitRate: hitRate(localHits, localMisses) },
    uploads: { count: sum((d) => d.uploads), bytes: sum((d) => d.uploadedBytes) },
  };
}

/** Usage of one kind of client in the period. */
export interface ClientUsage {
  sessions: number;
  remoteHits: number;
  remoteMisses: number;
  localHits: number;
  localMisses: number;
  uploads: number;
}

export interface ClientEventRow extends Omit<ClientUsage, 'uploads'> {
  /** x-artifact-client-ci (github-actions, ...); null for an interactive (non-CI) client. */
  clientCi: string | null;
}

export interface ClientUploadRow {
  clientCi: string | null;
  uploads: number;
}

export interface ClientBreakdown {
  ci: ClientUsage;
  interactive: ClientUsage;
  /** Per CI system, busiest first. */
  byCi: (ClientUsage & { name: string })[];
}

const emptyUsage = (): ClientUsage => ({
  sessions: 0,
  remoteHits: 0,
  remoteMisses: 0,
  localHits: 0,
  localMisses: 0,
  uploads: 0,
});

function add(into: ClientUsage, from: Partial<ClientUsage>): void {
  for (const key of Object.keys(into) as (keyof ClientUsage)[]) into[key] += from[key] ?? 0;
}

/** CI (a client that sent x-artifact-client-ci) against interactive use, and per CI system. */
export function clientBreakdown(
  events: ClientEventRow[],
  uploads: ClientUploadRow[],
): ClientBreakdown {
  const interactive = emptyUsage();
  const byName = new Map<string, ClientUsage>();
  const usageOf = (clientCi: string | null) => {
    if (clientCi === null) return interactive;
    let usage = byName.get(clientCi);
    if (!usage) byName.set(clientCi, (usage = emptyUsage()));
    return usage;
  };
  for (const { clientCi, ...usage } of events) add(usageOf(clientCi), usage);
  for (const { clientCi, uploads: count } of uploads) add(usageOf(clientCi), { uploads: count });
  const ci = emptyUsage();
  for (const usage of byName.values()) add(ci, usage);
  const activity = (u: ClientUsage) =>
    u.remoteHits + u.remoteMisses + u.localHits + u.localMisses + u.uploads;
  const byCi = [...byName.entries()]
    .map(([name, usage]) => ({ name, ...usage }))
    .sort((a, b) => activity(b) - activity(a) || a.name.localeCompare(b.name));
  return { ci, interactive, byCi };
}
