import { Client } from 'pg';
import request from 'supertest';
import { ROLLUP_LOCK_KEY, UsageRollupJob } from '../../src/stats/usage-rollup.job';
import { hashOf } from '../support/usage-script';
import { rawTeamStats } from '../support/raw-stats';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { postEvents, turboEvent } from '../support/usage';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const ENV = { ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' };

describe('rollups with two app instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let token: string;
  let teamId: string;

  beforeAll(async () => {
    a = await createTestApp(ENV);
    b = await createTestApp(ENV, { databaseUrl: a.databaseUrl });
    const team = await createTeam(a, 'replicated');
    teamId = team.id;
    ({ token } = await issueToken(a, team));
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('runs one job at a time: a run while another process holds the lock does nothing', async () => {
    const holder = new Client({ connectionString: a.databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [ROLLUP_LOCK_KEY]);
      const reports = await Promise.all([a, b].map((t) => t.app.get(UsageRollupJob).run()));
      expect(reports.map((r) => r.skipped)).toEqual([true, true]);
    } finally {
      await holder.end();
    }
  });

  it('counts every event once while both roll up and both ingest', async () => {
    let posting = true;
    const sessions = [crypto.randomUUID(), crypto.randomUUID()];
    const post = async (t: TestApp, i: number) => {
      for (let n = 0; posting; n++) {
        const ci: Record<string, string> =
          n % 2 ? { 'x-artifact-client-ci': 'github-actions' } : {};
        await postEvents(
          t.server,
          token,
          [
            turboEvent(
              'REMOTE',
              n % 3 ? 'HIT' : 'MISS',
              hashOf(n % 7),
              n % 3 ? 100 + n : 0,
              sessions[i],
            ),
            turboEvent('LOCAL', 'HIT', hashOf(n % 5), 10, sessions[i]),
          ],
          ci,
        ).expect(200);
      }
    };
    const rollUp = async (t: TestApp) => {
      const reports = [];
      while (posting) reports.push(await t.app.get(UsageRollupJob).run());
      return reports;
    };
    const writers = [post(a, 0), post(b, 1)];
    const jobs = [rollUp(a), rollUp(b)];
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    posting = false;
    await Promise.all(writers);
    const reports = (await Promise.all(jobs)).flat();
    expect(reports.filter((r) => !r.skipped && r.events > 0).length).toBeGreaterThan(0);
    await a.app.get(UsageRollupJob).run();
    const [{ max }] = await a.dataSource.query('SELECT max(id) FROM usage_events');
    const [state] = await a.dataSource.query('SELECT rolled_up_to FROM usage_rollup_state');
    expect(Number(state.rolled_up_to)).toBe(Number(max));
    const [sums] = await a.dataSource.query(
      `SELECT sum(remote_hits + remote_misses + local_hits + local_misses)::int AS n
         FROM usage_daily_counts WHERE team_id = $1`,
      [teamId],
    );
    const [events] = await a.dataSource.query(
      'SELECT count(*)::int AS n FROM usage_events WHERE team_id = $1',
      [teamId],
    );
    expect(sums.n).toBe(events.n);
    const { body } = await request(b.server)
      .get('/admin/teams/replicated/stats')
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
    const raw = await rawTeamStats(a.dataSource, teamId, {
      from: new Date(body.period.from),
      to: new Date(body.period.to),
    });
    expect({ ...body, team: undefined, tools: undefined }).toEqual({
      ...raw,
      team: undefined,
      tools: undefined,
    });
  });
});
