import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { makeDataDir, runCli, expectOneLineFailure } from '../support/server-process';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';
import { ageArtifact, blobExists, postEvents, storedHashes, turboEvent } from '../support/usage';
import { eventually } from '../support/wait';

/**
 * The retention, stats and deletion commands of the built CLI (bin/teamcache.js, compiled by
 * `npm test`), on the same database and blob directory as a running app.
 */
describe('teamcache stats / set-policy / artifacts purge / teams delete (the built CLI)', () => {
  jest.setTimeout(180_000);

  const JWT_SECRET = 'cli-test-secret-0123456789abcdef-0123456789';
  let database: { url: string; drop: () => Promise<void> };
  let dataDir: string;
  let t: TestApp;
  const cli = (...args: string[]) =>
    runCli(args, { DATABASE_URL: database.url, JWT_SECRET, DATA_DIR: dataDir });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = makeDataDir();
    t = await createTestApp(
      { JWT_SECRET, DATA_DIR: dataDir, RETENTION_SWEEP_INTERVAL_MS: '0' },
      { databaseUrl: database.url },
    );
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function seed(slug: string, sizes: number[]) {
    const team = await createTeam(t, slug);
    const { token } = await issueToken(t, team);
    const hashes: string[] = [];
    for (const size of sizes) {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(size), {
        'x-artifact-duration': '1500',
      }).expect(202);
      hashes.push(hash);
    }
    return { team, token, hashes };
  }

  describe('teams set-policy / policy', () => {
    it('overrides retention and quota and prints the policy as JSON', async () => {
      await seed('cli-policy', [100]);
      const result = cli(
        'teams',
        'set-policy',
        'cli-policy',
        '--retention-days',
        '7',
        '--quota',
        '1GiB',
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({
        slug: 'cli-policy',
        retentionDays: 7,
        retentionSource: 'team',
        quotaBytes: 1024 ** 3,
        quotaSource: 'team',
        quotaMode: 'evict',
        artifacts: 1,
        storedBytes: 100,
      });
      const none = JSON.parse(cli('teams', 'set-policy', 'cli-policy', '--quota', 'none').stdout);
      expect(none).toMatchObject({ retentionDays: 7, quotaBytes: null, quotaSource: 'team' });
      const reset = cli(
        'teams',
        'set-policy',
        'cli-policy',
        '--retention-days',
        'default',
        '--quota',
        'default',
      );
      expect(JSON.parse(reset.stdout)).toMatchObject({
        retentionDays: 30,
        retentionSource: 'default',
        quotaSource: 'default',
      });
      expect(JSON.parse(cli('teams', 'policy', 'cli-policy').stdout)).toEqual(
        JSON.parse(reset.stdout),
      );
    });

    it('refuses bad values with one line and a non-zero exit', () => {
      expectOneLineFailure(
        cli('teams', 'set-policy', 'cli-policy', '--quota', 'lots'),
        /^teamcache: quota: invalid size "lots"/,
      );
      expectOneLineFailure(
        cli('teams', 'set-policy', 'cli-policy', '--retention-days', '0'),
        /^teamcache: retention days must be a whole number from 1 to 36500/,
      );
      expectOneLineFailure(
        cli('teams', 'set-policy', 'cli-policy'),
        /^teamcache: give --retention-days and\/or --quota$/,
      );
      expectOneLineFailure(
        cli('teams', 'set-policy', 'nobody', '--quota', '1GiB'),
        /no team "nobody"/,
      );
    });
  });

  describe('stats', () => {
    it('prints a readable table, and the same numbers as JSON with --json', async () => {
      const { token, hashes } = await seed('cli-stats', [1000, 3000]);
      await getArtifact(t.server, token, hashes[0]).expect(200);
      await postEvents(
        t.server,
        token,
        [
          turboEvent('REMOTE', 'HIT', hashes[0], 1500),
          turboEvent('REMOTE', 'MISS', randomHash()),
          turboEvent('LOCAL', 'HIT', hashes[1], 1500),
        ],
        { 'x-artifact-client-ci': 'github-actions' },
      ).expect(200);

      const json = cli('stats', 'cli-stats', '--json');
      expect(json.stderr).toBe('');
      expect(json.status).toBe(0);
      const stats = JSON.parse(json.stdout);
      expect(stats).toMatchObject({
        storage: { artifacts: 2, bytes: 4000 },
        uploads: { count: 2, bytes: 4000 },
        remote: { hits: 1, misses: 1, hitRate: 0.5, timeSavedMs: 1500 },
        local: { hits: 1, misses: 0, hitRate: 1 },
        topArtifacts: [{ hash: hashes[0], hits: 1, timeSavedMs: 1500, size: 1000 }],
      });
      expect(stats.daily).toHaveLength(31);

      const text = cli('stats', 'cli-stats');
      expect(text.status).toBe(0);
      expect(text.stdout).toMatch(/^Team cli-stats \(team_\w+\), /);
      expect(text.stdout).toMatch(/^stored now +2 artifacts, 3\.9 KiB$/m);
      expect(text.stdout).toMatch(/^remote hits \/ misses +1 \/ 1$/m);
      expect(text.stdout).toMatch(/^remote hit rate +50\.0%$/m);
      expect(text.stdout).toMatch(/^time saved +1s$/m);
      expect(text.stdout).toContain(hashes[0]);
      expect(text.stdout).toMatch(/^ci: github-actions +3 +1 +1 +1 +0$/m);
    });

    it('takes --from/--to and refuses bad dates before touching the database', () => {
      const quiet = JSON.parse(
        cli('stats', 'cli-stats', '--from', '2020-01-01', '--to', '2020-01-07', '--json').stdout,
      );
      expect(quiet.period).toEqual({
        from: '2020-01-01T00:00:00.000Z',
        to: '2020-01-08T00:00:00.000Z',
      });
      expect(quiet.remote.hits).toBe(0);
      expectOneLineFailure(
        cli('stats', 'cli-stats', '--from', 'last week'),
        /^teamcache: from must be an ISO date/,
      );
    });
  });

  describe('artifacts purge', () => {
    it('removes the artifacts uploaded before --older-than, rows and blobs', async () => {
      const { team, hashes } = await seed('cli-purge', [10, 10, 10]);
      await ageArtifact(t, team.id, hashes[0], 8, { uploaded: true });

      const old = cli('artifacts', 'purge', '--team', 'cli-purge', '--older-than', '7d');
      expect(old.stderr).toBe('');
      expect(JSON.parse(old.stdout)).toMatchObject({
        slug: 'cli-purge',
        artifacts: 1,
        bytes: 10,
        blobFailures: 0,
      });
      expect(await storedHashes(t, team.id)).toEqual(hashes.slice(1).sort());
      expect(await blobExists(t, team.id, hashes[0])).toBe(false);

      const all = cli('artifacts', 'purge', '--team', 'cli-purge');
      expect(JSON.parse(all.stdout)).toMatchObject({ artifacts: 2, bytes: 20 });
      expect(await storedHashes(t, team.id)).toEqual([]);
      for (const hash of hashes) expect(await blobExists(t, team.id, hash)).toBe(false);
    });

    it('refuses a bad duration', () => {
      expectOneLineFailure(
        cli('artifacts', 'purge', '--team', 'cli-purge', '--older-than', 'ages'),
        /^teamcache: invalid duration "ages"/,
      );
    });
  });

  describe('teams delete', () => {
    it('refuses without --yes and deletes nothing', async () => {
      const { team } = await seed('cli-keep', [10]);
      expectOneLineFailure(
        cli('teams', 'delete', 'cli-keep'),
        /^teamcache: not deleting team "cli-keep" without --yes/,
      );
      expect(await storedHashes(t, team.id)).toHaveLength(1);
    });

    it('deletes the team with its tokens, artifacts, events and blobs; its tokens stop working', async () => {
      const { team, token, hashes } = await seed('cli-doomed', [10, 20]);
      await postEvents(t.server, token, [turboEvent('REMOTE', 'HIT', hashes[0], 5)]).expect(200);

      const result = cli('teams', 'delete', 'cli-doomed', '--yes');
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        team: team.id,
        slug: 'cli-doomed',
        artifacts: 2,
        bytes: 30,
        blobFailures: 0,
        tokens: 1,
        events: 1,
      });
      const [{ teams }] = await t.dataSource.query(
        'SELECT count(*)::int AS teams FROM teams WHERE id = $1',
        [team.id],
      );
      expect(teams).toBe(0);
      for (const hash of hashes) expect(await blobExists(t, team.id, hash)).toBe(false);
      await eventually(async () => {
        await getArtifact(t.server, token, hashes[0]).expect(401);
      }, 5_000);
      expectOneLineFailure(cli('teams', 'delete', 'cli-doomed', '--yes'), /no team "cli-doomed"/);
    });
  });
});
