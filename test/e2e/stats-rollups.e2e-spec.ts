import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { UsageRollupJob } from '../../src/stats/usage-rollup.job';
import { TOP_HASHES_PER_DAY } from '../../src/stats/usage-daily-artifacts.repository';
import { putArtifact, randomHash } from '../support/artifacts';
import { nxBody, nxPut, randomNxHash } from '../support/nx-cache';
import { rawTeamStats } from '../support/raw-stats';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { postEvents, turboEvent } from '../support/usage';
import {
  daysAgo,
  hashOf,
  insertEvents,
  plusHours,
  scriptedEvents,
  type ScriptedEvent,
} from '../support/usage-script';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const ENV = { ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' };
const day = (n: number) => daysAgo(n).toISOString().slice(0, 10);
const iso = (date: Date) => date.toISOString();

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The API's stats in the shape of rawTeamStats. */
const comparable = (b: Body) => ({
  period: b.period,
  storage: b.storage,
  remote: b.remote,
  local: b.local,
  uploads: b.uploads,
  sessions: b.sessions,
  topArtifacts: b.topArtifacts,
  clients: b.clients,
  daily: b.daily,
  tools: {
    turbo: { storage: b.tools.turbo.storage, uploads: b.tools.turbo.uploads },
    nx: { storage: b.tools.nx.storage, uploads: expect.any(Number) },
  },
});

/** Periods that start and end on midnights, within days (both ways), within one day, ... */
function periods(): [string, string][] {
  const d = (n: number, hours = 0) => iso(plusHours(daysAgo(n), hours));
  return [
    ['', ''],
    [`?from=${day(7)}&to=${day(0)}`, 'whole days, today included'],
    [`?from=${d(8, 3)}&to=${iso(new Date())}`, 'to now'],
    [`?from=${d(6, 20)}&to=${d(2, 5)}`, 'short parts of its first and last days'],
    [`?from=${d(6, 2)}&to=${d(2, 22)}`, 'long parts of its first and last days'],
    [`?from=${d(3, 22)}&to=${d(2, 2)}`, 'midnight, two partial days'],
    [`?from=${d(4, 1)}&to=${d(4, 23)}`, 'most of one day'],
    [`?from=${d(4, 10)}&to=${d(4, 11)}`, 'one hour'],
    [`?from=${day(4)}&to=${day(4)}`, 'one whole day'],
    [`?from=${day(40)}&to=${day(35)}`, 'days without events'],
    [`?from=${d(365, 7)}&to=${d(0, 20)}`, 'a year'],
  ];
}

describe('stats from rollups', () => {
  let t: TestApp;
  let teamId: string;
  let token: string;
  let job: UsageRollupJob;
  let trimTeamId: string;

  const stats = (query: string) =>
    request(t.server).get(`/admin/teams/rollups/stats${query}`).set(bearer(ADMIN_TOKEN));

  /** The API's answer for every period next to the raw count of the same period. */
  async function expectRawEquality() {
    for (const [query, what] of periods()) {
      const { body } = await stats(query).expect(200);
      const period = { from: new Date(body.period.from), to: new Date(body.period.to) };
      const raw = await rawTeamStats(t.dataSource, teamId, period);
      expect({ what, ...comparable(body) }).toEqual({ what, ...raw });
    }
  }

  beforeAll(async () => {
    t = await createTestApp(ENV);
    job = t.app.get(UsageRollupJob);
    const team = await createTeam(t, 'rollups');
    teamId = team.id;
    ({ token } = await issueToken(t, team));
    // Artifacts of both clients and interactive, uploaded inside and outside the periods' partial
    // days (moving created_at is an UPDATE the day totals follow), one of them uploaded twice.
    const uploadedAt: [number, number][] = [
      [6, 1],
      [6, 21],
      [2, 23],
      [2, 3],
      [4, 0.5],
      [4, 10.5],
      [4, 23.5],
      [3, 23],
      [8, 2],
      [0, 0.2],
      [7, 12],
      [1, 5],
    ];
    for (const [i, [days, hours]] of uploadedAt.entries()) {
      const hash = i < 6 ? hashOf(i) : randomHash();
      const ci = ['', 'github-actions', 'gitlab-ci'][i % 3];
      const headers: Record<string, string> = ci ? { 'x-artifact-client-ci': ci } : {};
      await putArtifact(t.server, token, hash, randomBytes(100 + i * 10), headers).expect(202);
      if (i === 5) await putArtifact(t.server, token, hash, randomBytes(7), headers).expect(202);
      await t.dataSource.query(
        'UPDATE artifacts SET created_at = $3, last_accessed_at = $3 WHERE team_id = $1 AND hash = $2',
        [teamId, hash, plusHours(daysAgo(days), hours)],
      );
    }
    for (let i = 0; i < 3; i++) {
      expect((await nxPut(t.server, randomNxHash(), nxBody(64 + i), token)).status).toBe(200);
    }
    // Eight days of turbo runs, and a session of each kind across midnight (and a gap).
    const spanning = randomUUID();
    const at = (n: number, hours: number): ScriptedEvent['createdAt'] =>
      plusHours(daysAgo(n), hours);
    const edge = (createdAt: Date, clientCi: string | null): ScriptedEvent => ({
      sessionId: spanning,
      source: 'REMOTE',
      event: 'HIT',
      hash: hashOf(1),
      durationMs: 700,
      clientCi,
      createdAt,
    });
    await insertEvents(t.dataSource, teamId, [
      ...scriptedEvents(1, {
        count: 1_500,
        sessions: 60,
        hashes: 40,
        from: daysAgo(8),
        to: daysAgo(-1),
      }),
      edge(at(3, 23.99), null),
      edge(at(2, 0.01), null),
      edge(at(2, 0.02), 'github-actions'),
      edge(at(6, 12), null),
    ]);
    // Another team with more hashes on one old day than a day keeps.
    const trimTeam = await createTeam(t, 'trimmed');
    trimTeamId = trimTeam.id;
    await insertEvents(
      t.dataSource,
      trimTeamId,
      scriptedEvents(2, {
        count: 3_000,
        sessions: 20,
        hashes: 400,
        from: daysAgo(5),
        to: daysAgo(4),
      }),
    );
    // ... and, today, more hashes than a day contributes to the top list.
    await insertEvents(
      t.dataSource,
      trimTeamId,
      scriptedEvents(4, {
        count: 1_500,
        sessions: 10,
        hashes: 300,
        from: daysAgo(0),
        to: daysAgo(-1),
      }),
    );
    const first = await job.run();
    expect(first).toMatchObject({ skipped: false, events: 1_504 + 3_000 + 1_500 });
    // Not rolled up yet: late events of past days and today's, written and posted.
    await insertEvents(
      t.dataSource,
      teamId,
      scriptedEvents(3, {
        count: 300,
        sessions: 70,
        hashes: 40,
        from: daysAgo(7),
        to: daysAgo(-1),
      }),
    );
    await postEvents(
      t.server,
      token,
      [
        turboEvent('REMOTE', 'HIT', hashOf(0), 250, spanning),
        turboEvent('LOCAL', 'MISS', hashOf(2)),
      ],
      { 'x-artifact-client-ci': 'github-actions' },
    ).expect(200);
  });
  afterAll(() => t.close());

  it('equal the raw counts for every period, with events on both sides of the watermark', async () => {
    const [state] = await t.dataSource.query('SELECT rolled_up_to FROM usage_rollup_state');
    const [{ max }] = await t.dataSource.query('SELECT max(id) FROM usage_events');
    expect(Number(state.rolled_up_to)).toBeLessThan(Number(max));
    await expectRawEquality();
  });

  it('equal them still once every event is rolled up and the artifact changes folded', async () => {
    const report = await job.run();
    expect(report).toMatchObject({ skipped: false, events: 302 });
    const [{ n }] = await t.dataSource.query('SELECT count(*)::int AS n FROM artifact_day_deltas');
    expect(n).toBe(0);
    await expectRawEquality();
  });

  it('count a session once over the days it spans, and once per client CI', async () => {
    const { body } = await stats(`?from=${day(3)}&to=${day(2)}`).expect(200);
    const raw = await rawTeamStats(t.dataSource, teamId, {
      from: daysAgo(3),
      to: daysAgo(1),
    });
    expect(body.sessions).toBe(raw.sessions);
    const rows: { n: number }[] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM usage_session_days
        WHERE team_id = $1 AND prev_day IS NOT NULL AND day = $2::date AND client_ci = ''`,
      [teamId, day(2)],
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });

  /** The trimmed team's day `n` days ago keeps exactly the raw events' top hashes of that day. */
  async function expectKeptTop(n: number): Promise<void> {
    const rows: { hash: string }[] = await t.dataSource.query(
      'SELECT hash FROM usage_daily_artifacts WHERE team_id = $1 AND day = $2::date',
      [trimTeamId, day(n)],
    );
    expect(rows).toHaveLength(TOP_HASHES_PER_DAY);
    const raw: { hash: string }[] = await t.dataSource.query(
      `SELECT hash FROM usage_events
        WHERE team_id = $1 AND source = 'REMOTE' AND event = 'HIT'
          AND created_at >= $2 AND created_at < $3
        GROUP BY hash ORDER BY count(*) DESC, sum(duration_ms) DESC, hash LIMIT $4`,
      [trimTeamId, daysAgo(n), daysAgo(n - 1), TOP_HASHES_PER_DAY],
    );
    expect(rows.map((r) => r.hash).sort()).toEqual(raw.map((r) => r.hash).sort());
  }

  it('keep the top hashes of a day before yesterday, and every hash of the days after', async () => {
    await expectKeptTop(5);
    const { body } = await request(t.server)
      .get(`/admin/teams/trimmed/stats?from=${day(5)}&to=${day(5)}`)
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
    const exact = await rawTeamStats(t.dataSource, trimTeamId, {
      from: daysAgo(5),
      to: daysAgo(4),
    });
    expect(body.topArtifacts).toEqual(exact.topArtifacts);
    const { body: today } = await request(t.server)
      .get(`/admin/teams/trimmed/stats?from=${day(0)}&to=${day(0)}`)
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
    const [{ n: kept }] = await t.dataSource.query(
      'SELECT count(*)::int AS n FROM usage_daily_artifacts WHERE team_id = $1 AND day = $2::date',
      [trimTeamId, day(0)],
    );
    expect(kept).toBeGreaterThan(TOP_HASHES_PER_DAY);
    const todayRaw = await rawTeamStats(t.dataSource, trimTeamId, {
      from: daysAgo(0),
      to: daysAgo(-1),
    });
    expect(today.topArtifacts).toEqual(todayRaw.topArtifacts);
    const [recent] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM usage_daily_artifacts WHERE team_id = $1 AND day >= $2::date`,
      [teamId, day(1)],
    );
    const [hashes] = await t.dataSource.query(
      `SELECT count(DISTINCT (created_at AT TIME ZONE 'UTC')::date::text || hash)::int AS n
         FROM usage_events
        WHERE team_id = $1 AND source = 'REMOTE' AND event = 'HIT' AND created_at >= $2`,
      [teamId, daysAgo(1)],
    );
    expect(recent.n).toBe(hashes.n);
  });

  it('trim again a day already trimmed when its events arrive late', async () => {
    const [state] = await t.dataSource.query(
      'SELECT top_artifacts_trimmed_through::text AS day FROM usage_rollup_state',
    );
    expect(state.day >= day(6)).toBe(true);
    // Day 6 of the trimmed team had no events: every one of these is late.
    await insertEvents(
      t.dataSource,
      trimTeamId,
      scriptedEvents(5, {
        count: 2_000,
        sessions: 10,
        hashes: 300,
        from: daysAgo(6),
        to: daysAgo(5),
      }),
    );
    const report = await job.run();
    expect(report.trimmed).toBeGreaterThan(0);
    await expectKeptTop(6);
  });

  it('roll up an event whose transaction commits after later ones, exactly once', async () => {
    const late = new Client({ connectionString: t.databaseUrl });
    await late.connect();
    try {
      await late.query('BEGIN');
      const [held] = (
        await late.query(
          `INSERT INTO usage_events (team_id, session_id, source, event, hash, duration_ms)
           VALUES ($1, $2, 'REMOTE', 'HIT', $3, 4242) RETURNING id`,
          [teamId, randomUUID(), hashOf(3)],
        )
      ).rows;
      await postEvents(t.server, token, [turboEvent('REMOTE', 'MISS', hashOf(4))]).expect(200);
      await job.run();
      await job.run();
      const [state] = await t.dataSource.query('SELECT rolled_up_to FROM usage_rollup_state');
      expect(Number(state.rolled_up_to)).toBeLessThan(Number(held.id));
      await late.query('COMMIT');
    } finally {
      await late.end();
    }
    await job.run();
    const [{ max }] = await t.dataSource.query('SELECT max(id) FROM usage_events');
    const [state] = await t.dataSource.query('SELECT rolled_up_to FROM usage_rollup_state');
    expect(Number(state.rolled_up_to)).toBe(Number(max));
    await expectRawEquality();
  });
});
