import request from 'supertest';
import { RetentionSweeper } from '../../src/retention/retention-sweeper';
import { UsageRetention } from '../../src/stats/usage-retention';
import { UsageRollupJob } from '../../src/stats/usage-rollup.job';
import { rawTeamStats } from '../support/raw-stats';
import { bearer, createTeam } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { sweep } from '../support/usage';
import { daysAgo, insertEvents, plusHours, scriptedEvents } from '../support/usage-script';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const day = (n: number) => daysAgo(n).toISOString().slice(0, 10);

describe('usage retention (USAGE_EVENTS_RETENTION_DAYS, USAGE_ROLLUP_RETENTION_DAYS)', () => {
  let t: TestApp;
  let teamId: string;
  let late: number;
  const reference = new Map<string, Awaited<ReturnType<typeof rawTeamStats>>>();
  let report: Awaited<ReturnType<typeof sweep>>;
  const count = async (sql: string, params: unknown[] = [teamId]) =>
    Number((await t.dataSource.query(sql, params))[0].n);
  const stats = (from: Date, to: Date) =>
    request(t.server)
      .get(`/admin/teams/pruned/stats?from=${from.toISOString()}&to=${to.toISOString()}`)
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
  const periods: Record<string, [Date, Date]> = {
    kept: [daysAgo(4), daysAgo(-1)],
    partialKept: [plusHours(daysAgo(2), 7), plusHours(daysAgo(0), 3)],
    pruned: [daysAgo(3), daysAgo(-1)],
    partialPruned: [plusHours(daysAgo(3), 6), daysAgo(-1)],
  };

  beforeAll(async () => {
    t = await createTestApp({
      ADMIN_TOKEN,
      RETENTION_SWEEP_INTERVAL_MS: '0',
      USAGE_EVENTS_RETENTION_DAYS: '2',
      USAGE_ROLLUP_RETENTION_DAYS: '4',
    });
    teamId = (await createTeam(t, 'pruned')).id;
    await insertEvents(
      t.dataSource,
      teamId,
      scriptedEvents(7, {
        count: 1_200,
        sessions: 50,
        hashes: 30,
        from: daysAgo(7),
        to: daysAgo(-1),
      }),
    );
    await t.app.get(UsageRollupJob).run();
    // Written after the rollup, with an old time: not rolled up, so never pruned yet.
    [late] = await insertEvents(
      t.dataSource,
      teamId,
      scriptedEvents(8, { count: 1, sessions: 1, hashes: 1, from: daysAgo(5), to: daysAgo(4) }),
    );
    for (const [name, [from, to]] of Object.entries(periods)) {
      reference.set(name, await rawTeamStats(t.dataSource, teamId, { from, to }));
    }
    report = await sweep(t);
  });
  afterAll(() => t.close());

  it('deletes the raw events of the days before the last 2 once rolled up, and only those', async () => {
    const kept = await count(
      'SELECT count(*) AS n FROM usage_events WHERE team_id = $1 AND created_at >= $2',
      [teamId, daysAgo(2)],
    );
    expect(kept).toBeGreaterThan(0);
    const old = await t.dataSource.query(
      'SELECT id FROM usage_events WHERE team_id = $1 AND created_at < $2',
      [teamId, daysAgo(2)],
    );
    expect(old.map((row: { id: string }) => Number(row.id))).toEqual([late]);
    expect(report.usage?.events).toBe(1_200 - kept);
    const [state] = await t.dataSource.query('SELECT events_kept_from FROM usage_rollup_state');
    expect(new Date(state.events_kept_from)).toEqual(daysAgo(2));
  });

  it('deletes the rollups of the days before the last 4', async () => {
    for (const table of ['usage_daily_counts', 'usage_session_days', 'usage_daily_artifacts']) {
      const before = `SELECT count(*) AS n FROM ${table} WHERE team_id = $1 AND day < $2::date`;
      expect(await count(before, [teamId, day(4)])).toBe(0);
      const after = `SELECT count(*) AS n FROM ${table} WHERE team_id = $1 AND day >= $2::date`;
      expect(await count(after, [teamId, day(4)])).toBeGreaterThan(0);
    }
    expect(report.usage?.rollupRows).toBeGreaterThan(0);
  });

  it('answers periods as before: whole days from the rollups, partial days of kept events exactly', async () => {
    for (const name of ['kept', 'partialKept', 'pruned']) {
      const [from, to] = periods[name];
      const { body } = await stats(from, to);
      const raw = reference.get(name)!;
      expect({ name, ...body, team: undefined, tools: undefined, storage: undefined }).toEqual({
        name,
        ...raw,
        team: undefined,
        tools: undefined,
        storage: undefined,
      });
    }
  });

  it('counts a partial day whose raw events are pruned whole, but its sessions exactly', async () => {
    const [from, to] = periods.partialPruned;
    const { body } = await stats(from, to);
    const whole = reference.get('pruned')!;
    const exact = reference.get('partialPruned')!;
    expect(body.remote).toEqual(whole.remote);
    expect(body.local).toEqual(whole.local);
    expect(body.sessions).toBe(exact.sessions);
  });

  it('stops between statements once its signal aborts (shutdown), and the next pass goes on', async () => {
    await insertEvents(
      t.dataSource,
      teamId,
      scriptedEvents(9, { count: 20, sessions: 2, hashes: 3, from: daysAgo(6), to: daysAgo(5) }),
    );
    await t.app.get(UsageRollupJob).run();
    const old = 'SELECT count(*) AS n FROM usage_events WHERE team_id = $1 AND created_at < $2';
    const due = await count(old, [teamId, daysAgo(2)]);
    expect(due).toBeGreaterThanOrEqual(20);
    const retention = t.app.get(UsageRetention);
    const runner = t.dataSource.createQueryRunner();
    try {
      const stopped = await retention.prune(runner, { signal: AbortSignal.abort() });
      expect(stopped).toMatchObject({ events: 0, rollupRows: 0, stopped: true });
      expect(await count(old, [teamId, daysAgo(2)])).toBe(due);
      const next = await retention.prune(runner);
      expect(next).toMatchObject({ events: due, stopped: false });
      expect(await count(old, [teamId, daysAgo(2)])).toBe(0);
    } finally {
      await runner.release();
    }
  });

  it('prunes a late event once it is rolled up', async () => {
    await t.app.get(UsageRollupJob).run();
    await sweep(t);
    const old = 'SELECT count(*) AS n FROM usage_events WHERE team_id = $1 AND created_at < $2';
    expect(await count(old, [teamId, daysAgo(2)])).toBe(0);
  });

  // Last: the sweeper stays shut down.
  it("stops the sweep's usage prune once the server shuts down", async () => {
    await insertEvents(
      t.dataSource,
      teamId,
      scriptedEvents(10, { count: 5, sessions: 1, hashes: 2, from: daysAgo(6), to: daysAgo(5) }),
    );
    await t.app.get(UsageRollupJob).run();
    await t.app.get(RetentionSweeper).beforeApplicationShutdown();
    const swept = await sweep(t);
    expect(swept.usage).toMatchObject({ events: 0, stopped: true });
    const old = 'SELECT count(*) AS n FROM usage_events WHERE team_id = $1 AND created_at < $2';
    expect(await count(old, [teamId, daysAgo(2)])).toBe(5);
  });
});
