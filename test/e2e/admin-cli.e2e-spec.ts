import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jwt from 'jsonwebtoken';
import request from 'supertest';
import { deriveTeamKey } from '../../src/tokens/team-key';
import { CacheAuthProbeModule } from '../support/cache-auth-probe';
import {
  makeDataDir,
  postmasterPid,
  runCli,
  expectOneLineFailure,
} from '../support/server-process';
import { bearer } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';
import { eventually } from '../support/wait';

/**
 * The admin commands of the built CLI (bin/teamcache.js, compiled by `npm test`), against the
 * same database as a running app.
 */
describe('teamcache teams / tokens (the built CLI)', () => {
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
  });
  afterAll(async () => {
    await t?.close();
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  let team: { id: string; slug: string; name: string; status: string };
  let ciToken: string;
  let ciTokenId: string;

  it('teams create prints the team as JSON', () => {
    const result = cli('teams', 'create', 'acme', '--name', 'Acme Inc');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    team = JSON.parse(result.stdout);
    expect(team).toMatchObject({
      id: expect.stringMatching(/^team_[A-Za-z0-9]{24}$/),
      slug: 'acme',
      name: 'Acme Inc',
      status: 'enabled',
    });
  });

  it('teams create refuses a duplicate slug with one line and a non-zero exit', () => {
    expectOneLineFailure(cli('teams', 'create', 'acme'), /^teamcache: .*"acme" already exists$/);
  });

  it('teams create refuses a malformed slug', () => {
    expectOneLineFailure(
      cli('teams', 'create', 'Not_A_Slug'),
      /^teamcache: team slug "Not_A_Slug"/,
    );
  });

  it('teams list prints a JSON array', () => {
    const result = cli('teams', 'list');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ id: team.id, slug: 'acme' }),
    ]);
  });

  it('tokens issue prints only the token, on one line', () => {
    const result = cli('tokens', 'issue', '--team', 'acme', '--name', 'ci');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    ciToken = result.stdout.trim();
    ciTokenId = (jwt.decode(ciToken) as jwt.JwtPayload).jti!;
  });

  it('the issued token is accepted by an app on the same database', async () => {
    t = await createTestApp(
      { JWT_SECRET },
      { databaseUrl: database.url, extraImports: [CacheAuthProbeModule] },
    );
    const res = await request(t.server)
      .get('/probe/read?slug=acme')
      .set(bearer(ciToken))
      .expect(200);
    expect(res.body).toEqual({
      tokenId: ciTokenId,
      teamId: team.id,
      teamSlug: 'acme',
      scope: 'read-write',
      teamStatus: 'enabled',
    });
  });

  it('tokens issue --json --read-only --expires-in prints {id, token, team, scope, expiresAt}', async () => {
    const result = cli(
      'tokens',
      'issue',
      '--team',
      team.id,
      '--read-only',
      '--expires-in',
      '30m',
      '--json',
    );
    expect(result.status).toBe(0);
    const issued = JSON.parse(result.stdout);
    expect(Object.keys(issued).sort()).toEqual(['expiresAt', 'id', 'scope', 'team', 'token']);
    expect(issued).toMatchObject({ team: team.id, scope: 'read-only' });
    const inMs = Date.parse(issued.expiresAt) - Date.now();
    expect(inMs).toBeGreaterThan(29 * 60_000);
    expect(inMs).toBeLessThanOrEqual(30 * 60_000);
    await request(t.server).get('/probe/read').set(bearer(issued.token)).expect(200);
    await request(t.server).put('/probe/write').set(bearer(issued.token)).expect(403);
  });

  it('tokens issue refuses a bad duration and an unknown team, with one line each', () => {
    expectOneLineFailure(
      cli('tokens', 'issue', '--team', 'acme', '--expires-in', '90days'),
      /^teamcache: invalid duration "90days"/,
    );
    expectOneLineFailure(
      cli('tokens', 'issue', '--team', 'nobody'),
      /^teamcache: no team "nobody"$/,
    );
    expectOneLineFailure(
      cli('tokens', 'list', '--team', 'nobody'),
      /^teamcache: no team "nobody"$/,
    );
  });

  it('tokens list shows the records, never the token strings', () => {
    const result = cli('tokens', 'list', '--team', 'acme');
    expect(result.status).toBe(0);
    const tokens = JSON.parse(result.stdout);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toMatchObject({
      id: ciTokenId,
      name: 'ci',
      scope: 'read-write',
      revokedAt: null,
    });
    expect(result.stdout).not.toContain(ciToken.split('.')[2]);
  });

  it('teams pause and resume take effect on the running app', async () => {
    expect(JSON.parse(cli('teams', 'pause', 'acme').stdout).status).toBe('paused');
    await eventually(async () => {
      const res = await request(t.server).get('/probe/read').set(bearer(ciToken));
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('remote_caching_paused');
    });
    expect(JSON.parse(cli('teams', 'resume', 'acme').stdout).status).toBe('enabled');
    await eventually(async () => {
      await request(t.server).get('/probe/read').set(bearer(ciToken)).expect(200);
    });
  });

  it('tokens revoke makes the token 401 within 5 s', async () => {
    const result = cli('tokens', 'revoke', ciTokenId);
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      id: ciTokenId,
      revokedAt: expect.any(String),
    });
    const elapsed = await eventually(async () => {
      await request(t.server).get('/probe/read').set(bearer(ciToken)).expect(401);
    });
    expect(elapsed).toBeLessThanOrEqual(5_000);
  });

  it('teams rotate-key voids the tokens issued before it', async () => {
    const before = cli('tokens', 'issue', '--team', 'acme').stdout.trim();
    await request(t.server).get('/probe/read').set(bearer(before)).expect(200);
    const rotated = cli('teams', 'rotate-key', 'acme');
    expect(rotated.status).toBe(0);
    expect(JSON.parse(rotated.stdout).keyVersion).toBe(2);
    await eventually(async () => {
      await request(t.server).get('/probe/read').set(bearer(before)).expect(401);
    });
    const after = cli('tokens', 'issue', '--team', 'acme').stdout.trim();
    await request(t.server).get('/probe/read').set(bearer(after)).expect(200);
  });

  it('tokens revoke refuses an unknown or malformed token id', () => {
    expectOneLineFailure(
      cli('tokens', 'revoke', '0b6d7a0e-8c1f-4a8e-9d61-3e2f4b5c6d7e'),
      /^teamcache: no token 0b6d7a0e/,
    );
    expectOneLineFailure(
      cli('tokens', 'revoke', 'nope'),
      /^teamcache: token id "nope" must be a UUID$/,
    );
  });

  it('refuses to start without JWT_SECRET when DATABASE_URL is set (one line naming it)', () => {
    const result = runCli(['teams', 'list'], { DATABASE_URL: database.url, DATA_DIR: dataDir });
    expectOneLineFailure(result, /^teamcache: Invalid configuration: JWT_SECRET is required/);
    expect(result.status).toBe(78);
    const short = runCli(['teams', 'list'], {
      DATABASE_URL: database.url,
      JWT_SECRET: 'too-short',
      DATA_DIR: dataDir,
    });
    expectOneLineFailure(short, /JWT_SECRET must be at least 32 bytes/);
    expect(short.stderr).not.toContain('too-short');
  });

  it('teamcache serve refuses to start without JWT_SECRET when DATABASE_URL is set', () => {
    const result = runCli(['serve'], { DATABASE_URL: database.url, DATA_DIR: dataDir });
    expectOneLineFailure(result, /^teamcache: Invalid configuration: JWT_SECRET is required/);
    expect(result.status).toBe(78);
  });
});

describe('teamcache admin commands in embedded mode (no DATABASE_URL)', () => {
  jest.setTimeout(180_000);
  const dataDir = makeDataDir();
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('generate DATA_DIR/jwt-secret once (0600), sign with it, and stop the database they started', () => {
    const created = runCli(['teams', 'create', 'laptop'], { DATA_DIR: dataDir });
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const team = JSON.parse(created.stdout);

    const secretFile = path.join(dataDir, 'jwt-secret');
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(secretFile, 'utf8').trim();

    const issued = runCli(['tokens', 'issue', '--team', 'laptop'], { DATA_DIR: dataDir });
    expect(issued.status).toBe(0);
    expect(fs.readFileSync(secretFile, 'utf8').trim()).toBe(secret);
    const payload = jwt.verify(issued.stdout.trim(), deriveTeamKey(secret, team.id, 1), {
      algorithms: ['HS256'],
    });
    expect(payload).toMatchObject({ team: team.id, scope: 'read-write', kv: 1 });
    expect(postmasterPid(dataDir)).toBeUndefined();
  });
});
