import * as fs from 'node:fs';
import request from 'supertest';
import type { Team } from '../../src/teams/team.entity';
import { githubJobClaims, TestOidcIssuer, type JobClaims } from '../support/oidc-issuer';
import { expectOneLineFailure, makeDataDir, runCliAsync } from '../support/server-process';
import { bearer, createTeam } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';

const ADMIN_TOKEN = 'oidc-admin-token-0123456789abcdef-4567';
const JWT_SECRET = 'oidc-policies-secret-0123456789abcdef-0123';
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const AUDIENCE = 'https://cache.acme.test';
const OWNER_ID = '917263';
const REPO_ID = '558301';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * CI identity (issue 17), the operator's side: trust policies saved only when they are safe
 * (API and the built CLI), issuer keys refetched at most once a minute on an unknown key id, an
 * exchanged token refused once its policy's lifetime has passed, an issuer that cannot be
 * reached. Where a minute must pass, this process's clock (Date.now, which the app in it reads)
 * is moved ahead instead of waiting; the issuers keep the real time.
 */
describe('CI identity: trust policies, issuer keys, lifetimes', () => {
  jest.setTimeout(120_000);
  let ci: TestOidcIssuer;
  let rotating: TestOidcIssuer;
  let gone: TestOidcIssuer;
  let stranger: TestOidcIssuer;
  let database: { url: string; drop: () => Promise<void> };
  let dataDir: string;
  let t: TestApp;
  let acme: Team;
  let issuers: string;

  const admin = (method: 'get' | 'post' | 'delete', path: string) =>
    request(t.server)[method](path).set(bearer(ADMIN_TOKEN));
  const addPolicy = (policy: object, team = 'acme') =>
    admin('post', `/admin/teams/${team}/oidc-policies`).send(policy);
  const policyNames = async () =>
    ((await admin('get', '/admin/teams/acme/oidc-policies').expect(200)).body as { name: string }[])
      .map((policy) => policy.name)
      .sort();
  const jobClaims = (overrides: JobClaims = {}) =>
    githubJobClaims({
      aud: AUDIENCE,
      repository_id: REPO_ID,
      repository_owner_id: OWNER_ID,
      ...overrides,
    });
  const exchange = (subjectToken: string, policy?: string) =>
    request(t.server)
      .post('/oidc/token')
      .send({
        grant_type: GRANT,
        subject_token_type: ID_TOKEN,
        subject_token: subjectToken,
        team: 'acme',
        ...(policy === undefined ? {} : { policy }),
      });
  /** A valid policy of `issuer`, overridden by `fields` (a field set to undefined is left out). */
  const policy = (issuer: TestOidcIssuer, fields: Record<string, unknown> = {}) => {
    const merged: Record<string, unknown> = {
      name: 'main',
      issuer: issuer.url,
      audience: AUDIENCE,
      conditions: { repository_owner_id: { eq: OWNER_ID }, ref: { eq: 'refs/heads/main' } },
      access: 'read-write',
      tier: 'trusted',
      ...fields,
    };
    return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined));
  };
  const cli = (...args: string[]) =>
    runCliAsync(args, {
      DATABASE_URL: database.url,
      JWT_SECRET,
      DATA_DIR: dataDir,
      OIDC_ISSUERS: issuers,
      OIDC_ALLOW_HTTP_ISSUERS: 'true',
    });

  /** Moves this process's clock `ms` ahead of the real time (the app reads Date.now). */
  const realNow = Date.now;
  const moveClock = (ms: number) =>
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);

  beforeAll(async () => {
    [ci, rotating, gone, stranger] = await Promise.all([
      TestOidcIssuer.start(),
      TestOidcIssuer.start(),
      TestOidcIssuer.start(),
      TestOidcIssuer.start(),
    ]);
    // Allowed, but nothing answers there any more.
    await gone.close();
    issuers = [ci.url, rotating.url, gone.url].join(',');
    database = await createTestDatabase();
    dataDir = makeDataDir();
    t = await createTestApp(
      {
        OIDC_ISSUERS: issuers,
        OIDC_ALLOW_HTTP_ISSUERS: 'true',
        ADMIN_TOKEN,
        JWT_SECRET,
        DATA_DIR: dataDir,
        RATE_LIMIT_AUTH_FAILURES: '0',
      },
      { databaseUrl: database.url },
    );
    acme = await createTeam(t, 'acme');
    await createTeam(t, 'globex');
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await t?.close();
    await database?.drop();
    await Promise.all([ci, rotating, stranger].map((issuer) => issuer?.close()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('POST /admin/teams/{team}/oidc-policies', () => {
    it('saves a policy (issuer normalised, lifetime 1 h by default) and lists it', async () => {
      const res = await addPolicy(policy(ci, { issuer: `${ci.url}/` }));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        team: acme.id,
        name: 'main',
        issuer: ci.url,
        audience: AUDIENCE,
        conditions: { repository_owner_id: { eq: OWNER_ID }, ref: { eq: 'refs/heads/main' } },
        access: 'read-write',
        tier: 'trusted',
        scope: null,
        ttlSeconds: 3600,
        createdAt: expect.any(String),
      });
      const listed = await admin('get', '/admin/teams/acme/oidc-policies').expect(200);
      expect(listed.body).toEqual([res.body]);
      await request(t.server).get('/admin/teams/acme/oidc-policies').expect(401);
    });

    it.each([
      [
        'no id pin (a name can be re-registered)',
        { conditions: { repository_owner: { eq: 'acme' }, ref: { eq: 'refs/heads/main' } } },
        'conditions must pin an owner or project by id with eq or in',
      ],
      [
        'an id pinned only by a glob',
        { conditions: { repository_owner_id: { glob: '9*' } } },
        'conditions must pin an owner or project by id with eq or in',
      ],
      [
        'the issuer as audience',
        { audience: 'ISSUER' },
        "never the CI's default (the issuer, or https://github.com/<owner>)",
      ],
      [
        "GitHub's default audience",
        { audience: 'https://github.com/acme' },
        "never the CI's default (the issuer, or https://github.com/<owner>)",
      ],
      [
        'an issuer not in OIDC_ISSUERS',
        { issuer: 'STRANGER' },
        'issuer must be one of OIDC_ISSUERS',
      ],
      [
        'an untrusted policy without a scope',
        { tier: 'untrusted' },
        'an untrusted policy needs a scope template',
      ],
      [
        'a scope on a trusted policy',
        { scope: '{repository_id}' },
        'scope is for untrusted policies only',
      ],
      [
        'a lifetime under a minute',
        { ttlSeconds: 59 },
        'ttlSeconds must be a whole number from 60',
      ],
      ['a lifetime over 6 h', { ttlSeconds: 21_601 }, 'ttlSeconds must be a whole number from 60'],
      ['an unknown field', { expires: '1h' }, 'unknown field(s): expires'],
    ])('refuses %s (400)', async (_rule, fields, fragment) => {
      const resolved = Object.fromEntries(
        Object.entries(fields).map(([key, value]) => [
          key,
          value === 'ISSUER' ? ci.url : value === 'STRANGER' ? stranger.url : value,
        ]),
      );
      const res = await addPolicy(policy(ci, { name: 'refused', ...resolved }));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('bad_request');
      expect(res.body.message).toContain(fragment);
      expect(await policyNames()).not.toContain('refused');
    });

    it('refuses a name the team already has (409); another team may use it', async () => {
      const res = await addPolicy(policy(ci, { ttlSeconds: 60 }));
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        code: 'conflict',
        message: 'team acme already has a policy named main',
      });
      await addPolicy(policy(ci), 'globex').expect(201);
    });
  });

  describe('DELETE /admin/oidc-policies/{id}', () => {
    it('removes a policy; tokens it issued stay valid and lose only its id', async () => {
      const added = await addPolicy(
        policy(ci, { name: 'nightly', conditions: { repository_id: { in: [REPO_ID] } } }),
      ).expect(201);
      const exchanged = await exchange(
        await ci.sign(jobClaims({ event_name: 'schedule', run_id: '5005' })),
        'nightly',
      ).expect(200);
      const removed = await admin('delete', `/admin/oidc-policies/${added.body.id}`).expect(200);
      expect(removed.body).toMatchObject({ id: added.body.id, name: 'nightly' });
      await admin('delete', `/admin/oidc-policies/${added.body.id}`).expect(404);

      await request(t.server)
        .get('/v8/artifacts/status')
        .set(bearer(exchanged.body.access_token))
        .expect(200, { status: 'enabled' });
      const tokens = (await admin('get', '/admin/teams/acme/tokens').expect(200)).body as {
        oidc?: { policyId: string | null; job: Record<string, string> };
      }[];
      expect(tokens.find((token) => token.oidc?.job.run_id === '5005')?.oidc?.policyId).toBeNull();
    });
  });

  describe('teamcache oidc policies add | list | remove (built CLI)', () => {
    it('adds, lists and removes a policy that the running server exchanges by', async () => {
      const nightly = policy(ci, {
        name: 'cli-nightly',
        conditions: { repository_id: { in: [REPO_ID] }, event_name: { eq: 'schedule' } },
        access: 'read-only',
      });
      const added = await cli(
        'oidc',
        'policies',
        'add',
        '--team',
        'acme',
        '--json',
        JSON.stringify(nightly),
      );
      expect(added.stderr).toBe('');
      expect(added.status).toBe(0);
      const saved = JSON.parse(added.stdout);
      expect(saved).toMatchObject({
        ...nightly,
        id: expect.stringMatching(UUID),
        ttlSeconds: 3600,
      });

      const listed = await cli('oidc', 'policies', 'list', '--team', 'acme');
      expect(listed.status).toBe(0);
      expect((JSON.parse(listed.stdout) as { name: string }[]).map((p) => p.name)).toEqual([
        'cli-nightly',
        'main',
      ]);
      expect(await policyNames()).toEqual(['cli-nightly', 'main']);

      const job = () => ci.sign(jobClaims({ event_name: 'schedule', ref: 'refs/heads/nightly' }));
      const res = await exchange(await job());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        policy: 'cli-nightly',
        access: 'read-only',
        tier: 'trusted',
      });

      const removed = await cli('oidc', 'policies', 'remove', saved.id);
      expect(removed.status).toBe(0);
      expect(JSON.parse(removed.stdout)).toMatchObject({ id: saved.id, name: 'cli-nightly' });
      expect(await policyNames()).toEqual(['main']);
      const refused = await exchange(await job());
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('invalid_grant');
    });

    it('refuses an unsafe policy in one line and saves nothing', async () => {
      const unpinned = policy(ci, {
        name: 'cli-bad',
        conditions: { ref: { eq: 'refs/heads/main' } },
      });
      const result = await cli(
        'oidc',
        'policies',
        'add',
        '--team',
        'acme',
        '--json',
        JSON.stringify(unpinned),
      );
      expectOneLineFailure(result, /^teamcache: conditions must pin an owner or project by id/);
      expect(await policyNames()).toEqual(['main']);
    });
  });

  describe('issuer keys', () => {
    it('refetches the JWKS once for an unknown key id, at most once a minute, and accepts a rotated-in key', async () => {
      await addPolicy(
        policy(rotating, { name: 'rotating', conditions: { repository_id: { eq: REPO_ID } } }),
      ).expect(201);
      const withKey = (kid?: string) => rotating.sign(jobClaims(), { kid });
      await exchange(await withKey(), 'rotating').expect(200);
      expect(rotating.requests).toEqual({ discovery: 1, jwks: 1, other: 0 });

      // A key the issuer has not published yet.
      const next = await rotating.addKey({ publish: false });
      const unknownKid = {
        status: 401,
        code: 'invalid_grant',
        message: "no key of the issuer matches the CI token's key id (kid)",
      };
      const refusal = (res: request.Response) => ({
        status: res.status,
        code: res.body.code,
        message: res.body.message,
      });
      // Within a minute of the last fetch: refused without a fetch.
      expect(refusal(await exchange(await withKey(next), 'rotating'))).toEqual(unknownKid);
      expect(rotating.requests.jwks).toBe(1);

      moveClock(61_000);
      expect(refusal(await exchange(await withKey(next), 'rotating'))).toEqual(unknownKid);
      expect(rotating.requests.jwks).toBe(2);
      expect(refusal(await exchange(await withKey(next), 'rotating'))).toEqual(unknownKid);
      expect(rotating.requests.jwks).toBe(2);

      // Rotated in: accepted at the next refetch, a minute after the last one at most.
      rotating.publish(next);
      expect(refusal(await exchange(await withKey(next), 'rotating'))).toEqual(unknownKid);
      moveClock(122_000);
      await exchange(await withKey(next), 'rotating').expect(200);
      expect(rotating.requests.jwks).toBe(3);
      await exchange(await withKey(next), 'rotating').expect(200);
      await exchange(await withKey(), 'rotating').expect(200);
      expect(rotating.requests).toEqual({ discovery: 1, jwks: 3, other: 0 });
    });

    it('answers 503 when an allowed issuer cannot be reached', async () => {
      const res = await exchange(await gone.sign(jobClaims()));
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('unavailable');
    });
  });

  describe('an exchanged token', () => {
    it("is refused by the cache once its policy's lifetime (ttlSeconds) has passed", async () => {
      await addPolicy(
        policy(ci, {
          name: 'short',
          conditions: { repository_id: { eq: REPO_ID }, event_name: { eq: 'workflow_dispatch' } },
          ttlSeconds: 60,
        }),
      ).expect(201);
      const res = await exchange(
        await ci.sign(jobClaims({ event_name: 'workflow_dispatch', ref: 'refs/tags/v1.0.0' })),
      );
      expect(res.body).toMatchObject({ policy: 'short', expires_in: 60 });
      const status = () =>
        request(t.server).get('/v8/artifacts/status').set(bearer(res.body.access_token));
      await status().expect(200);
      moveClock(55_000);
      await status().expect(200);
      moveClock(61_000);
      const expired = await status();
      expect(expired.status).toBe(401);
      expect(expired.body).toMatchObject({ code: 'unauthorized', message: 'token has expired' });
    });
  });
});
