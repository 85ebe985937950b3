import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Team } from '../../src/teams/team.entity';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { cloneRepo, createMonorepo, readOutputs, turboRun } from '../support/turbo-repo';

const PACKAGES = ['alpha', 'beta', 'gamma'];

/** The real `turbo` binary (npm package turbo) against the real app, database and storage. */
describe('turbo run against teamcache', () => {
  jest.setTimeout(180_000);
  let t: TestApp;
  let api: string;
  let acme: Team;
  let acmeToken: string;
  let otherToken: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    acme = await createTeam(t, 'acme');
    acmeToken = (await issueToken(t, acme, { name: 'ci' })).token;
    otherToken = (await issueToken(t, await createTeam(t, 'globex'))).token;
  });
  afterAll(async () => {
    await t.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const track = (dir: string) => (dirs.push(dir), dir);
  const artifactCount = async (team: Team) =>
    Number(
      (
        await t.dataSource.query('SELECT count(*) AS n FROM artifacts WHERE team_id = $1', [
          team.id,
        ])
      )[0].n,
    );

  it('uploads on a first run and serves a fresh clone FULL TURBO with identical outputs', async () => {
    const repo = track(createMonorepo(PACKAGES));
    const first = await turboRun(repo, {
      TURBO_API: api,
      TURBO_TOKEN: acmeToken,
      TURBO_TEAM: 'acme',
    });
    expect(first.status).toBe(0);
    expect(first.output).toContain('Remote caching enabled');
    expect(first.output).toMatch(/Cached:\s+0 cached, 3 total/);
    expect(await artifactCount(acme)).toBe(3);

    // A trailing slash on TURBO_API makes turbo call //v8/...: still a hit.
    const clone = track(cloneRepo(repo));
    const second = await turboRun(clone, {
      TURBO_API: `${api}/`,
      TURBO_TOKEN: acmeToken,
      TURBO_TEAM: 'acme',
    });
    expect(second.status).toBe(0);
    expect(second.output).toMatch(/Cached:\s+3 cached, 3 total/);
    expect(second.output).toContain('FULL TURBO');
    expect(readOutputs(clone, PACKAGES)).toEqual(readOutputs(repo, PACKAGES));

    const events = await t.dataSource.query(
      "SELECT count(*)::int AS n FROM usage_events WHERE team_id = $1 AND source = 'REMOTE' AND event = 'HIT'",
      [acme.id],
    );
    expect(events[0].n).toBe(3);
  });

  it("gives another team's token misses, never this team's artifacts", async () => {
    const repo = track(createMonorepo(PACKAGES));
    expect(
      (await turboRun(repo, { TURBO_API: api, TURBO_TOKEN: acmeToken, TURBO_TEAM: 'acme' })).status,
    ).toBe(0);

    const clone = track(cloneRepo(repo));
    const run = await turboRun(clone, {
      TURBO_API: api,
      TURBO_TOKEN: otherToken,
      TURBO_TEAM: 'globex',
    });
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/Cached:\s+0 cached, 3 total/);
    expect(readOutputs(clone, PACKAGES)).not.toEqual(readOutputs(repo, PACKAGES));
  });

  it('keeps signed artifacts verifiable: same key hits, another key is refused by turbo', async () => {
    const signed = { remoteCache: { signature: true } };
    const repo = track(createMonorepo(PACKAGES, signed));
    const env = { TURBO_API: api, TURBO_TOKEN: acmeToken, TURBO_TEAM: 'acme' };
    const first = await turboRun(repo, {
      ...env,
      TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'key-one-secret',
    });
    expect(first.status).toBe(0);
    const tags = await t.dataSource.query(
      'SELECT count(*)::int AS n FROM artifacts WHERE team_id = $1 AND tag IS NOT NULL',
      [acme.id],
    );
    expect(tags[0].n).toBe(3);

    const sameKey = track(cloneRepo(repo));
    const hit = await turboRun(sameKey, {
      ...env,
      TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'key-one-secret',
    });
    expect(hit.output).toMatch(/Cached:\s+3 cached, 3 total/);
    expect(readOutputs(sameKey, PACKAGES)).toEqual(readOutputs(repo, PACKAGES));

    const otherKey = track(cloneRepo(repo));
    const refused = await turboRun(otherKey, {
      ...env,
      TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'another-key',
    });
    expect(refused.status).toBe(0);
    expect(refused.output).toMatch(/Cached:\s+0 cached, 3 total/);
    expect(readOutputs(otherKey, PACKAGES)).not.toEqual(readOutputs(repo, PACKAGES));
  });
});
