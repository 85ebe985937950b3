import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Team } from '../../src/teams/team.entity';
import { sha256 } from '../support/artifacts';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import {
  cloneRepo,
  createMonorepo,
  readOutputs,
  taskHashes,
  turboCli,
  TurboCli,
  turboRun,
} from '../support/turbo-repo';

const PACKAGES = ['alpha', 'beta'];

/**
 * The turbo CLIs teams still run (npm aliases in devDependencies), each with its own way of
 * making the remote cache read-only (1.10 has none: only the token can refuse).
 * 1.13.4 to 2.1.x upload with Transfer-Encoding: chunked and no Content-Length.
 */
const VERSIONS: { pkg: string; readOnly?: ReadOnlySwitch }[] = [
  { pkg: 'turbo-1-10' },
  { pkg: 'turbo-1-13-4', readOnly: { args: ['--remote-cache-read-only'] } },
  { pkg: 'turbo-2-0', readOnly: { args: ['--remote-cache-read-only'] } },
  { pkg: 'turbo-2-1', readOnly: { args: ['--remote-cache-read-only'] } },
  { pkg: 'turbo-2-2', readOnly: { args: ['--remote-cache-read-only'] } },
  { pkg: 'turbo', readOnly: { env: { TURBO_CACHE: 'local:rw,remote:r' } } },
];

interface ReadOnlySwitch {
  args?: string[];
  env?: Record<string, string>;
}

/** One request the app answered, as the client sent it. */
interface Exchange {
  method: string;
  url: string;
  status: number;
}

const ARTIFACT_URL = /^\/+(?:v8\/)?artifacts\/([0-9a-f]+)(?:\?|$)/;

/** The real turbo binaries, old and current, against the real app, database and storage. */
describe('turbo versions against teamcache', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  let api: string;
  let exchanges: Exchange[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    // Before express rewrites req.url: what the client really asked for.
    t.server.prependListener('request', (req, res) => {
      const { method = '', url = '' } = req;
      res.on('finish', () => exchanges.push({ method, url, status: res.statusCode }));
    });
  });
  afterAll(async () => {
    await t.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const track = (dir: string) => (dirs.push(dir), dir);
  // Digests, not buffers: toEqual walks a Buffer byte by byte (seconds for 400 kB).
  const outputDigests = (root: string) => readOutputs(root, PACKAGES).map(sha256);
  const storedHashes = async (team: Team): Promise<string[]> =>
    (
      (await t.dataSource.query('SELECT hash FROM artifacts WHERE team_id = $1', [team.id])) as {
        hash: string;
      }[]
    )
      .map((row) => row.hash)
      .sort();
  /** The artifact requests of the last run: hash and the status the app answered. */
  const requests = (method: string) =>
    exchanges.flatMap((e) => {
      const hash = ARTIFACT_URL.exec(e.url)?.[1];
      return e.method === method && hash ? [{ hash, status: e.status }] : [];
    });

  describe.each(VERSIONS.map((v) => ({ ...v, turbo: turboCli(v.pkg) })))(
    'turbo $turbo.version ($pkg)',
    ({ turbo, readOnly }: { turbo: TurboCli; readOnly?: ReadOnlySwitch }) => {
      let team: Team;
      let readWrite: Record<string, string>;
      let readOnlyToken: Record<string, string>;
      let repo: string;
      let firstRun: Record<string, string>;

      beforeAll(async () => {
        team = await createTeam(t, `turbo-${turbo.version.replace(/\./g, '-')}`);
        const remote = { TURBO_API: api, TURBO_TEAM: team.slug };
        readWrite = { ...remote, TURBO_TOKEN: (await issueToken(t, team)).token };
        readOnlyToken = {
          ...remote,
          TURBO_TOKEN: (await issueToken(t, team, { readOnly: true })).token,
        };
        repo = track(createMonorepo(PACKAGES, {}, turbo));
      });

      const run = (cwd: string, env: Record<string, string>, args: string[] = []) => {
        exchanges = [];
        return turboRun(cwd, env, turbo, args);
      };

      /** A fresh clone (no local cache) where beta's build changed: beta misses, alpha hits. */
      const changedClone = () => {
        const clone = track(cloneRepo(repo));
        fs.appendFileSync(path.join(clone, 'packages/beta/build.js'), '// changed\n');
        return clone;
      };

      it('uploads every task it ran: one accepted PUT and one row per task hash', async () => {
        const first = await run(repo, readWrite);
        expect(first.status).toBe(0);
        expect(first.output).toMatch(/Cached:\s+0 cached, 2 total/);
        firstRun = taskHashes(first, 'miss');
        const hashes = Object.values(firstRun).sort();
        expect(hashes).toHaveLength(2);

        // A refused upload (411, 413, ...) is only a warning to turbo: the exchanges tell.
        const puts = requests('PUT').sort((a, b) => a.hash.localeCompare(b.hash));
        expect(puts).toEqual(hashes.map((hash) => ({ hash, status: 202 })));
        expect(await storedHashes(team)).toEqual(hashes);
      });

      it('serves a fresh clone FULL TURBO from the remote cache, outputs byte-identical', async () => {
        const clone = track(cloneRepo(repo));
        const second = await run(clone, readWrite);
        expect(second.status).toBe(0);
        expect(second.output).toMatch(/Cached:\s+2 cached, 2 total/);
        expect(second.output).toContain('FULL TURBO');
        expect(taskHashes(second, 'hit')).toEqual(firstRun);
        expect(requests('GET')).toEqual(
          expect.arrayContaining(Object.values(firstRun).map((hash) => ({ hash, status: 200 }))),
        );
        expect(requests('PUT')).toEqual([]);
        expect(outputDigests(clone)).toEqual(outputDigests(repo));
      });

      it('lets a read-only token read, and refuses its uploads with 403', async () => {
        const clone = changedClone();
        const third = await run(clone, readOnlyToken);
        expect(third.status).toBe(0);
        expect(third.output).toMatch(/Cached:\s+1 cached, 2 total/);
        expect(taskHashes(third, 'hit')).toEqual({ 'alpha:build': firstRun['alpha:build'] });
        const changed = taskHashes(third, 'miss')['beta:build'];
        expect(changed).toMatch(/^[0-9a-f]{16}$/);
        expect(changed).not.toBe(firstRun['beta:build']);
        expect(requests('PUT')).toEqual([{ hash: changed, status: 403 }]);
        expect(await storedHashes(team)).toEqual(Object.values(firstRun).sort());
      });

      if (readOnly)
        it(`with the client's read-only switch too (${JSON.stringify(readOnly)}), never uploads`, async () => {
          const clone = changedClone();
          const fourth = await run(clone, { ...readOnlyToken, ...readOnly.env }, readOnly.args);
          expect(fourth.status).toBe(0);
          expect(fourth.output).toMatch(/Cached:\s+1 cached, 2 total/);
          expect(taskHashes(fourth, 'hit')).toEqual({ 'alpha:build': firstRun['alpha:build'] });
          expect(Object.keys(taskHashes(fourth, 'miss'))).toEqual(['beta:build']);
          expect(requests('PUT')).toEqual([]);
          expect(await storedHashes(team)).toEqual(Object.values(firstRun).sort());
        });
    },
  );
});
