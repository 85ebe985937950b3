import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import request from 'supertest';
import { ArtifactAccessRecorder } from '../../src/artifacts/artifact-access.recorder';
import type { Team } from '../../src/teams/team.entity';
import { TrustTier } from '../../src/trust/trust-tier';
import { getArtifact, sha256 } from '../support/artifacts';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import {
  cloneRepo,
  createMonorepo,
  taskHashes,
  turboRun,
  type TurboRun,
} from '../support/turbo-repo';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const PACKAGES = ['alpha', 'beta', 'gamma'];
const TASKS = PACKAGES.map((name) => `${name}:build`);
const POISON = 'poisoned-by-pr-1';
const GIT_ID = ['-c', 'user.email=ci@teamcache.test', '-c', 'user.name=teamcache tests'];

interface Row {
  hash: string;
  overlay_scope: string;
  writer_token_name: string;
}

/**
 * CVE-2025-36852 with the real `turbo` CLI: a PR build, on a commit whose task hashes equal
 * main's, uploads poisoned outputs first; main must neither restore nor be blocked by them.
 * The poison comes from POISON, a pass-through variable: the build sees it, turbo does not hash
 * it. The steps run in order on one monorepo and build on each other.
 */
describe('trust tiers with the real turbo CLI: a PR cannot poison what main restores', () => {
  jest.setTimeout(180_000);
  let t: TestApp;
  let api: string;
  let acme: Team;
  let mainToken: string;
  let prToken: string;
  let repo: string;
  let prRepo: string;
  let prHashes: Record<string, string>;
  let mainRepo: string;
  let mainHashes: Record<string, string>;
  const dirs: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN });
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    acme = await createTeam(t, 'acme');
    mainToken = (await issueToken(t, acme, { name: 'main' })).token;
    prToken = (
      await issueToken(t, acme, { name: 'pr', tier: TrustTier.Untrusted, overlayScope: 'pr-1' })
    ).token;
    repo = track(
      createMonorepo(PACKAGES, {
        tasks: { build: { outputs: ['dist/**'], passThroughEnv: ['POISON'] } },
      }),
    );
    for (const name of PACKAGES) {
      fs.appendFileSync(
        path.join(repo, 'packages', name, 'build.js'),
        "fs.writeFileSync('dist/origin.txt', process.env.POISON || 'clean');\n",
      );
    }
    commitAll(repo, 'builds record where they ran');
  });
  afterAll(async () => {
    await t?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const track = (dir: string) => (dirs.push(dir), dir);
  const build = (cwd: string, token: string, extra: Record<string, string> = {}) =>
    turboRun(cwd, { TURBO_API: api, TURBO_TOKEN: token, TURBO_TEAM: 'acme', ...extra });
  const rows = async (): Promise<Row[]> =>
    sortedRows(
      await t.dataSource.query(
        'SELECT hash, overlay_scope, writer_token_name FROM artifacts WHERE team_id = $1',
        [acme.id],
      ),
    );

  it("runs the PR build first, on its own commit with main's task hashes: its poisoned outputs go to overlay pr-1 only", async () => {
    prRepo = track(cloneRepo(repo));
    execFileSync('git', ['checkout', '-qb', 'pr-1'], { cwd: prRepo });
    fs.writeFileSync(path.join(prRepo, 'README.md'), 'A harmless-looking change.\n');
    commitAll(prRepo, 'pr-1');
    expect(headOf(prRepo)).not.toBe(headOf(repo));

    const run = await build(prRepo, prToken, { POISON });
    expectRun(run, 0);
    prHashes = taskHashes(run, 'miss');
    expect(Object.keys(prHashes).sort()).toEqual(TASKS);
    expect(origins(prRepo)).toEqual([POISON, POISON, POISON]);

    expect(await rows()).toEqual(
      sortedRows(Object.values(prHashes).map((hash) => row(hash, 'pr-1', 'pr'))),
    );
  });

  it("gives main, building next, no hit from the PR's entries: it builds and uploads its own as trusted", async () => {
    mainRepo = track(cloneRepo(repo));
    const run = await build(mainRepo, mainToken);
    expectRun(run, 0);
    expect(taskHashes(run, 'hit')).toEqual({});
    mainHashes = taskHashes(run, 'miss');
    expect(mainHashes).toEqual(prHashes);
    expect(origins(mainRepo)).toEqual(['clean', 'clean', 'clean']);
    expect(outputs(mainRepo)).not.toEqual(outputs(prRepo));

    const hashes = Object.values(mainHashes);
    expect(await rows()).toEqual(
      sortedRows([
        ...hashes.map((hash) => row(hash, '', 'main')),
        ...hashes.map((hash) => row(hash, 'pr-1', 'pr')),
      ]),
    );
  });

  it("gives a second PR build hits on main's entries: it restores main's bytes, not its poison", async () => {
    const again = track(cloneRepo(prRepo));
    const run = await build(again, prToken, { POISON });
    expectRun(run, 3);
    expect(taskHashes(run, 'hit')).toEqual(mainHashes);
    expect(origins(again)).toEqual(['clean', 'clean', 'clean']);
    expect(outputs(again)).toEqual(outputs(mainRepo));
  });

  it("restores main's bytes, never the poison, in a fresh trusted clone", async () => {
    const fresh = track(cloneRepo(repo));
    const run = await build(fresh, mainToken);
    expectRun(run, 3);
    expect(taskHashes(run, 'hit')).toEqual(mainHashes);
    expect(origins(fresh)).toEqual(['clean', 'clean', 'clean']);
    expect(outputs(fresh)).toEqual(outputs(mainRepo));
    expect(outputs(fresh)).not.toEqual(outputs(prRepo));
  });

  it('keeps one trusted version (written by main) and one overlay version (by pr) of each hash; only the trusted one was ever served', async () => {
    await t.app.get(ArtifactAccessRecorder).flush();
    for (const hash of Object.values(mainHashes)) {
      const res = await request(t.server)
        .get(`/admin/teams/acme/artifacts/${hash}`)
        .set(bearer(ADMIN_TOKEN))
        .expect(200);
      expect(res.body.versions).toEqual([
        expect.objectContaining({
          hash,
          tier: 'trusted',
          scope: null,
          gitSha: headOf(repo),
          writer: expect.objectContaining({ tokenName: 'main', tier: 'trusted' }),
          // The second PR build and the fresh trusted clone.
          hits: 2,
        }),
        expect.objectContaining({
          hash,
          tier: 'untrusted',
          scope: 'pr-1',
          gitSha: headOf(prRepo),
          writer: expect.objectContaining({ tokenName: 'pr', tier: 'untrusted' }),
          hits: 0,
        }),
      ]);
      const [trusted, overlay] = res.body.versions;
      expect(trusted.contentSha256).not.toBe(overlay.contentSha256);

      // Both tokens download the trusted version's exact bytes.
      for (const token of [mainToken, prToken]) {
        const res = await getArtifact(t.server, token, hash, '?slug=acme').expect(200);
        expect(sha256(res.body)).toBe(trusted.contentSha256);
        expect(res.body.length).toBe(trusted.size);
      }
    }
  });
});

function expectRun(run: TurboRun, cached: number) {
  expect(run.status).toBe(0);
  expect(run.output).toContain('Remote caching enabled');
  expect(run.output).toMatch(new RegExp(`Cached:\\s+${cached} cached, 3 total`));
}

function commitAll(cwd: string, message: string) {
  execFileSync('git', ['add', '-A'], { cwd });
  execFileSync('git', [...GIT_ID, 'commit', '-qm', message], { cwd });
}

function headOf(cwd: string): string {
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd }).toString().trim();
}

/** What each package's build wrote as its origin: POISON, or `clean`. */
function origins(root: string): string[] {
  return PACKAGES.map((name) =>
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'origin.txt'), 'utf8'),
  );
}

/** Every output file of every package (random bytes, name, origin). */
function outputs(root: string): Buffer[] {
  return PACKAGES.flatMap((name) =>
    ['out.bin', 'name.txt', 'origin.txt'].map((file) =>
      fs.readFileSync(path.join(root, 'packages', name, 'dist', file)),
    ),
  );
}

function row(hash: string, overlayScope: string, writer: string): Row {
  return { hash, overlay_scope: overlayScope, writer_token_name: writer };
}

function sortedRows(list: Row[]): Row[] {
  return [...list].sort(
    (a, b) => a.hash.localeCompare(b.hash) || a.overlay_scope.localeCompare(b.overlay_scope),
  );
}
