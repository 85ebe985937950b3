import type { ClientEventRow, DailyEventRow } from './stats-math';
import type { ClientSessions, DayClientCounts } from './usage-stats.repository';

type Counts = Omit<DailyEventRow, 'day'>;
const COUNTS: (keyof Counts)[] = [
  'remoteHits',
  'remoteMisses',
  'localHits',
  'localMisses',
  'timeSavedMs',
];

const zero = (): Counts => ({
  remoteHits: 0,
  remoteMisses: 0,
  localHits: 0,
  localMisses: 0,
  timeSavedMs: 0,
});

function addCounts(into: Counts, from: Counts): Counts {
  for (const key of COUNTS) into[key] += from[key];
  return into;
}

const isEmpty = (counts: Counts) => COUNTS.every((key) => counts[key] === 0);

/** The events of each UTC day, all client CIs together (days without events left out). */
export function dailyEventRows(rows: DayClientCounts[]): DailyEventRow[] {
  const byDay = new Map<string, Counts>();
  for (const row of rows) {
    const day = byDay.get(row.day) ?? zero();
    byDay.set(row.day, addCounts(day, row));
  }
  return [...byDay]
    .filter(([, counts]) => !isEmpty(counts))
    .map(([day, counts]) => ({ day, ...counts }));
}

/**
 * The events and sessions of each client CI over the period ('' becomes null, interactive);
 * a client CI with neither is left out, as a raw count would never name it.
 */
export function clientEventRows(
  rows: DayClientCounts[],
  sessions: ClientSessions[],
): ClientEventRow[] {
  const byClient = new Map<string, Counts & { sessions: number }>();
  const of = (clientCi: string) => {
    let usage = byClient.get(clientCi);
    if (!usage) byClient.set(clientCi, (usage = { ...zero(), sessions: 0 }));
    return usage;
  };
  for (const row of rows) addCounts(of(row.clientCi), row);
  for (const row of sessions) of(row.clientCi).sessions += row.sessions;
  return [...byClient]
    .filter(([, usage]) => usage.sessions !== 0 || !isEmpty(usage))
    .map(([clientCi, usage]) => ({
      clientCi: clientCi === '' ? null : clientCi,
      sessions: usage.sessions,
      remoteHits: usage.remoteHits,
      remoteMisses: usage.remoteMisses,
      localHits: usage.localHits,
      localMisses: usage.localMisses,
    }));
}
