import type { DataSource } from 'typeorm';

const DAY_MS = 86_400_000;

/** One usage event with the time it was recorded (written straight into usage_events). */
export interface ScriptedEvent {
  sessionId: string;
  source: 'LOCAL' | 'REMOTE';
  event: 'HIT' | 'MISS';
  hash: string;
  durationMs: number;
  clientCi: string | null;
  createdAt: Date;
}

/** UTC midnight `days` days before today (0: today). */
export function daysAgo(days: number, now = new Date()): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - days * DAY_MS);
}

/** `date` plus `hours` (fractions allowed). */
export const plusHours = (date: Date, hours: number) =>
  new Date(date.getTime() + hours * 3_600_000);

/** A small seeded generator (mulberry32), so a script is the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const uuidOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
export const hashOf = (n: number) => `beef${n.toString(16).padStart(8, '0')}`;

/**
 * `count` events of `sessions` sessions (one client CI each: github-actions, gitlab-ci or
 * interactive) between `from` and `to`, from `hashes` hashes (the first few much more often),
 * seeded: what a team's turbo runs report, in any order of time.
 */
export function scriptedEvents(
  seed: number,
  options: { count: number; sessions: number; hashes: number; from: Date; to: Date },
): ScriptedEvent[] {
  const random = seeded(seed);
  const span = options.to.getTime() - options.from.getTime();
  const clients = ['github-actions', 'gitlab-ci', null];
  return Array.from({ length: options.count }, () => {
    const session = Math.floor(random() * options.sessions);
    const remote = random() < 0.7;
    const hit = random() < 0.65;
    return {
      sessionId: uuidOf(seed * 10_000 + session),
      source: remote ? 'REMOTE' : 'LOCAL',
      event: hit ? 'HIT' : 'MISS',
      hash: hashOf(Math.floor(options.hashes * random() ** 2)),
      durationMs: hit ? 1 + Math.floor(random() * 5_000) : 0,
      clientCi: clients[session % 3],
      createdAt: new Date(options.from.getTime() + Math.floor(random() * span)),
    };
  });
}

/** Writes `events` of `teamId` in one INSERT (ids in array order); returns the ids. */
export async function insertEvents(
  db: DataSource,
  teamId: string,
  events: ScriptedEvent[],
): Promise<number[]> {
  const column = <K extends keyof ScriptedEvent>(key: K) => events.map((e) => e[key]);
  const rows: { id: string }[] = await db.query(
    `INSERT INTO usage_events (team_id, session_id, source, event, hash, duration_ms, client_ci, created_at)
     SELECT $1, e.session_id, e.source, e.event, e.hash, e.duration_ms, e.client_ci, e.created_at
       FROM unnest($2::uuid[], $3::varchar[], $4::varchar[], $5::varchar[], $6::int[],
                   $7::varchar[], $8::timestamptz[]) WITH ORDINALITY
            AS e(session_id, source, event, hash, duration_ms, client_ci, created_at, n)
      ORDER BY e.n
     RETURNING id`,
    [
      teamId,
      column('sessionId'),
      column('source'),
      column('event'),
      column('hash'),
      column('durationMs'),
      column('clientCi'),
      column('createdAt'),
    ],
  );
  return rows.map((row) => Number(row.id));
}
