import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Team } from '../../src/teams/team.entity';
import { TrustTier } from '../../src/trust/trust-tier';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { nxBody, nxPut, randomNxHash } from '../support/nx-cache';
import { expectOneLineFailure, makeDataDir, runCliAsync } from '../support/server-process';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';
import { storedBlobKeys } from '../support/usage';
import { eventually } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const JWT_SECRET = 'provenance-secret-0123456789abcdef-012345678';

interface Version {
  tool: string;
  hash: string;
  tier: string;
  scope: string | null;
  writer: { tokenId: string | null; tokenName: string | null; tier: string };
  gitSha: string | null;
  ci: string | null;
  size: number;
}

/**
 * Provenance (issue 16): after a scripted sequence of uploads by several tokens, `artifacts
 * show` names the writer of every stored version, `artifacts list --writer` finds one token's
 * writes, `artifacts purge --writer` removes exactly those (rows first, then blobs; not a later
 * re-upload of the same hash by another token), and a scope is deleted with everything in it.
 * Through the admin API and the built CLI (bin/teamcache.js), on one database and blob directory.
 */
describe('provenance: artifacts show / list / purge --writer, scopes (API and CLI)', () => {
  jest.setTimeout(180_000);

  let database: { url: string; drop: () => Promise<void> };
  let dataDir: string;
  let t: TestApp;
  let team: Team;
  const tok: Record<'main' | 'leaked' | 'prA' | 'prB', { id: string; token: string }> = {} as never;
  const cli = (...args: string[]) =>
    runCliAsync(args, { DATABASE_URL: database.url, JWT_SECRET, DATA_DIR: dataDir });
  const cliJson = async (...args: string[]) => {
    const result = await cli(...args);
    if (result.status !== 0) throw new Error(`teamcache ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  const admin = (method: 'get' | 'post' | 'delete', path: string) =>
    request(t.server)[method](path).set(bearer(ADMIN_TOKEN));

  /** hash -> bytes, of the scripted sequence. */
  const h = {
    shared: randomHash(),
    prOnly: randomHash(),
    leakedOnly: randomHash(),
    repaired: randomHash(),
  };
  const nx = randomNxHash();
  const bodies = {
    mainShared: randomBytes(300),
    prShared: randomBytes(310),
    prOnly: randomBytes(320),
    leakedOnly: randomBytes(330),
    leakedRepaired: randomBytes(340),
    mainRepaired: randomBytes(350),
    prBOnly: randomBytes(360),
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = makeDataDir();
    t = await createTestApp(
      { JWT_SECRET, DATA_DIR: dataDir, ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' },
      { databaseUrl: database.url },
    );
    team = await createTeam(t, 'acme');
    tok.main = await issueToken(t, team, { name: 'main' });
    tok.leaked = await issueToken(t, team, { name: 'old-ci' });
    tok.prA = await issueToken(t, team, {
      name: 'pr-a',
      tier: TrustTier.Untrusted,
      overlayScope: 'pr-a',
    });
    tok.prB = await issueToken(t, team, {
      name: 'pr-b',
      tier: TrustTier.Untrusted,
      overlayScope: 'pr-b',
    });
    // The scripted sequence.
    const ci = { 'x-artifact-client-ci': 'github-actions' };
    await putArtifact(t.server, tok.main.token, h.shared, bodies.mainShared, {
      'x-artifact-sha': 'a1b2c3d',
      ...ci,
    }).expect(202);
    await putArtifact(t.server, tok.prA.token, h.shared, bodies.prShared, {
      'x-artifact-sha': 'badbadb',
    }).expect(202);
    await putArtifact(t.server, tok.prA.token, h.prOnly, bodies.prOnly).expect(202);
    await putArtifact(t.server, tok.leaked.token, h.leakedOnly, bodies.leakedOnly).expect(202);
    await putArtifact(t.server, tok.leaked.token, h.repaired, bodies.leakedRepaired).expect(202);
    await putArtifact(t.server, tok.main.token, h.repaired, bodies.mainRepaired, ci).expect(202);
    await putArtifact(t.server, tok.prB.token, randomHash(), bodies.prBOnly).expect(202);
    expect((await nxPut(t.server, nx, nxBody(50), tok.leaked.token)).status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const brief = (v: Version) => [v.tier, v.scope, v.writer.tokenName, v.writer.tokenId];

  it('shows every stored version of a hash with its writer and who reads it (API)', async () => {
    const res = await admin('get', `/admin/teams/acme/artifacts/${h.shared}`).expect(200);
    expect(res.body.slug).toBe('acme');
    const versions = res.body.versions as Version[];
    expect(versions.map(brief)).toEqual([
      ['trusted', null, 'main', tok.main.id],
      ['untrusted', 'pr-a', 'pr-a', tok.prA.id],
    ]);
    expect(versions[0]).toMatchObject({
      tool: 'turbo',
      hash: h.shared,
      gitSha: 'a1b2c3d',
      ci: 'github-actions',
      size: bodies.mainShared.length,
      visibleTo: 'every token of the team',
      writer: { tier: 'trusted', revokedAt: null },
    });
    expect(versions[1]).toMatchObject({ gitSha: 'badbadb', ci: null });
    expect(versions[1].writer.tier).toBe('untrusted');
  });

  it('names the later writer of a hash re-uploaded by another token (CLI)', async () => {
    const shown = await cliJson('artifacts', 'show', h.repaired, '--team', 'acme');
    expect((shown.versions as Version[]).map(brief)).toEqual([
      ['trusted', null, 'main', tok.main.id],
    ]);
  });

  it('shows Nx versions by the hash Nx knows', async () => {
    const res = await admin('get', `/admin/teams/acme/artifacts/${nx}`).expect(200);
    expect(
      (res.body.versions as Version[]).map((v) => [v.tool, v.hash, v.writer.tokenName]),
    ).toEqual([['nx', nx, 'old-ci']]);
  });

  it('answers 404 for a hash with no version and 400 for a malformed one', async () => {
    const missing = await admin('get', `/admin/teams/acme/artifacts/${randomHash()}`).expect(404);
    expect(missing.body.code).toBe('not_found');
    await admin('get', '/admin/teams/acme/artifacts/not-a-hash').expect(400);
    await admin('get', '/admin/teams/nobody/artifacts').expect(404);
  });

  it("lists one writer's versions, pages through them, and filters by namespace", async () => {
    const leaked = await admin('get', `/admin/teams/acme/artifacts?writer=${tok.leaked.id}`).expect(
      200,
    );
    expect((leaked.body.versions as Version[]).map((v) => v.hash).sort()).toEqual(
      [h.leakedOnly, nx].sort(),
    );
    expect(leaked.body.next).toBeNull();

    const first = await cliJson('artifacts', 'list', '--team', 'acme', '--limit', '2');
    expect(first.versions).toHaveLength(2);
    expect(first.next).toEqual(expect.any(String));
    const rest = await cliJson('artifacts', 'list', '--team', 'acme', '--after', first.next);
    const all = [...first.versions, ...rest.versions] as Version[];
    const rows = Number(
      (
        await t.dataSource.query('SELECT count(*) AS n FROM artifacts WHERE team_id = $1', [
          team.id,
        ])
      )[0].n,
    );
    expect(all).toHaveLength(rows);
    expect(new Set(all.map((v) => `${v.hash}/${v.scope}`)).size).toBe(rows);

    const overlay = await admin('get', '/admin/teams/acme/artifacts?scope=pr-a').expect(200);
    expect((overlay.body.versions as Version[]).map((v) => v.hash).sort()).toEqual(
      [h.shared, h.prOnly].sort(),
    );
    for (const bad of ['writer=nope', 'scope=../x', 'limit=0', 'limit=5000', 'after=x']) {
      await admin('get', `/admin/teams/acme/artifacts?${bad}`).expect(400);
    }
  });

  it("purges exactly a leaked token's writes, rows then blobs, and not another token's re-upload", async () => {
    const keysBefore = await storedBlobKeys(t, team.id);
    const purged = await cliJson('artifacts', 'purge', '--team', 'acme', '--writer', tok.leaked.id);
    expect(purged).toMatchObject({ artifacts: 2, writer: tok.leaked.id, blobFailures: 0 });
    expect(purged.bytes).toBe(bodies.leakedOnly.length + 50);
    await getArtifact(t.server, tok.main.token, h.leakedOnly).expect(404);
    expect((await getArtifact(t.server, tok.main.token, h.repaired).expect(200)).body).toEqual(
      bodies.mainRepaired,
    );
    const keysAfter = await storedBlobKeys(t, team.id);
    expect(keysBefore.length - keysAfter.length).toBe(2);
    expect(keysAfter.some((key) => key.includes(h.leakedOnly) || key.includes(`nx-${nx}`))).toBe(
      false,
    );
    const again = await admin('post', '/admin/teams/acme/purge')
      .send({ writer: tok.leaked.id })
      .expect(200);
    expect(again.body.artifacts).toBe(0);
  });

  it('purges one overlay scope, leaving the trusted entry of the same hash', async () => {
    const purged = await admin('post', '/admin/teams/acme/purge')
      .send({ scope: 'pr-a' })
      .expect(200);
    expect(purged.body).toMatchObject({ artifacts: 2, scope: 'pr-a' });
    expect((await getArtifact(t.server, tok.prA.token, h.shared).expect(200)).body).toEqual(
      bodies.mainShared,
    );
    await getArtifact(t.server, tok.prA.token, h.prOnly).expect(404);
    await admin('post', '/admin/teams/acme/purge').send({ scope: '../etc' }).expect(400);
    await admin('post', '/admin/teams/acme/purge').send({ writer: 'me' }).expect(400);
  });

  it('lists scopes with their tokens and entries, and deletes one: tokens revoked, entries gone', async () => {
    const listed = await cliJson('scopes', 'list', '--team', 'acme');
    const byScope = Object.fromEntries(
      (listed.scopes as { scope: string; artifacts: number; tokens: { id: string }[] }[]).map(
        (s) => [s.scope, [s.artifacts, s.tokens.map((x) => x.id)]],
      ),
    );
    expect(byScope).toEqual({ 'pr-a': [0, [tok.prA.id]], 'pr-b': [1, [tok.prB.id]] });

    const deleted = await admin('delete', '/admin/teams/acme/scopes/pr-b').expect(200);
    expect(deleted.body).toMatchObject({
      scope: 'pr-b',
      revokedTokens: [tok.prB.id],
      artifacts: 1,
      bytes: bodies.prBOnly.length,
    });
    await eventually(async () => {
      await getArtifact(t.server, tok.prB.token, h.shared).expect(401);
    });
    const after = await admin('get', '/admin/teams/acme/scopes').expect(200);
    expect(after.body.scopes.find((s: { scope: string }) => s.scope === 'pr-b')).toMatchObject({
      artifacts: 0,
      tokens: [{ id: tok.prB.id, revokedAt: expect.any(String) }],
    });
    await admin('delete', '/admin/teams/acme/scopes/nothing-here').expect(404);
    expectOneLineFailure(await cli('scopes', 'delete', '../x', '--team', 'acme'), /scope must be/);
  });

  it('purges the versions of one hash (e.g. a broken immutable trusted entry), in one namespace or all', async () => {
    const hash = randomHash();
    await putArtifact(t.server, tok.main.token, hash, randomBytes(40)).expect(202);
    await putArtifact(t.server, tok.prA.token, hash, randomBytes(50)).expect(202);
    const trusted = await admin('post', '/admin/teams/acme/purge')
      .send({ hash, scope: 'trusted' })
      .expect(200);
    expect(trusted.body).toMatchObject({ artifacts: 1, bytes: 40, hash, scope: 'trusted' });
    await getArtifact(t.server, tok.main.token, hash).expect(404);
    const rest = await cliJson('artifacts', 'purge', '--team', 'acme', '--hash', hash);
    expect(rest).toMatchObject({ artifacts: 1, bytes: 50, hash });
    await getArtifact(t.server, tok.prA.token, hash).expect(404);
    await admin('post', '/admin/teams/acme/purge').send({ hash: 'xyz' }).expect(400);
  });

  it('shows and changes tier settings from the CLI', async () => {
    expect(await cliJson('teams', 'tiers', 'acme')).toMatchObject({
      trustedEntries: 'replaceable',
      overlayRetentionDays: 7,
      overlayRetentionSource: 'default',
    });
    expect(
      await cliJson(
        'teams',
        'set-tiers',
        'acme',
        '--trusted-entries',
        'immutable',
        '--overlay-retention-days',
        '3',
      ),
    ).toMatchObject({
      trustedEntries: 'immutable',
      overlayRetentionDays: 3,
      overlayRetentionSetting: 3,
      overlayRetentionSource: 'team',
    });
    expectOneLineFailure(await cli('teams', 'set-tiers', 'acme'), /give --overlay-retention-days/);
    expectOneLineFailure(
      await cli('teams', 'set-tiers', 'acme', '--trusted-entries', 'sometimes'),
      /trustedEntries must be/,
    );
  });

  it('issues an untrusted token with a scope from the CLI, and refuses a scope without --untrusted', async () => {
    const issued = await cliJson(
      'tokens',
      'issue',
      '--team',
      'acme',
      '--untrusted',
      '--scope',
      'pr-9',
      '--json',
    );
    expect(issued).toMatchObject({ tier: 'untrusted', overlayScope: 'pr-9', scope: 'read-write' });
    expectOneLineFailure(
      await cli('tokens', 'issue', '--team', 'acme', '--scope', 'pr-9'),
      /--untrusted/,
    );
    const hash = randomHash();
    await putArtifact(t.server, issued.token, hash, randomBytes(10)).expect(202);
    await getArtifact(t.server, tok.main.token, hash).expect(404);
  });
});
