import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { AUTH_RECHECK_MS } from '../../src/auth/cache-auth.service';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { githubJobClaims, issuerNow, TestOidcIssuer, type JobClaims } from '../support/oidc-issuer';
import { bearer, createTeam } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import {
  cloneRepo,
  createMonorepo,
  readOutputs,
  taskHashes,
  turboRun,
} from '../support/turbo-repo';
import { eventually } from '../support/wait';

const ADMIN_TOKEN = 'oidc-admin-token-0123456789abcdef-0123';
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
/** teamcache's own audience (what the CI job asks its token for). */
const AUDIENCE = 'https://cache.acme.test';
/** Distinctive ids, so that a message leaking an expected value would be seen. */
const OWNER_ID = '917263';
const REPO_ID = '558301';
const PACKAGES = ['alpha', 'beta', 'gamma'];

interface Version {
  tier: string;
  scope: string | null;
  writer: { tokenId: string | null; tokenName: string | null; tier: string };
}

/**
 * CI identity (issue 17) over HTTP, with a loopback OpenID issuer and the real turbo CLI: a
 * main-branch job exchanges its OIDC token for a trusted cache token and turbo fills the cache
 * with it; a pull request's job gets an untrusted token whose writes main never reads; every
 * kind of bad CI token is refused with a reason; exchanged tokens can be revoked by their holder.
 */
describe('POST /oidc/token and /oidc/revoke', () => {
  jest.setTimeout(180_000);
  let issuer: TestOidcIssuer;
  let stranger: TestOidcIssuer;
  let t: TestApp;
  let api: string;
  const policyIds: Record<string, string> = {};
  const dirs: string[] = [];

  const admin = (method: 'get' | 'post' | 'delete', path: string) =>
    request(t.server)[method](path).set(bearer(ADMIN_TOKEN));
  const addPolicy = (policy: object) =>
    admin('post', '/admin/teams/acme/oidc-policies').send(policy);

  /** A GitHub-shaped job token's claims for acme/widgets, for teamcache's audience. */
  const jobClaims = (overrides: JobClaims = {}) =>
    githubJobClaims({
      aud: AUDIENCE,
      repository_id: REPO_ID,
      repository_owner_id: OWNER_ID,
      ...overrides,
    });
  /** The exchange as JSON. */
  const exchange = (subjectToken: string, extra: Record<string, string> = {}) =>
    request(t.server)
      .post('/oidc/token')
      .send({
        grant_type: GRANT,
        subject_token_type: ID_TOKEN,
        subject_token: subjectToken,
        team: 'acme',
        ...extra,
      });
  /** A fresh main-branch job's cache token. */
  const mainToken = async () =>
    (await exchange(await issuer.sign(jobClaims())).expect(200)).body.access_token as string;
  /** What a no-match refusal names per policy: "...: policy main: ref, aud; policy pr: aud)". */
  const failedClaimsOf = (message: string): Record<string, string[]> => {
    const list = /\(claims that do not match: (.*)\)$/.exec(message)?.[1] ?? '';
    return Object.fromEntries(
      list.split('; ').map((part) => {
        const [, policy, claims] = /^policy (\S+): (.*)$/.exec(part) ?? [];
        return [policy, claims?.split(', ').sort()];
      }),
    );
  };
  const refusal = (res: request.Response) => ({
    status: res.status,
    code: res.body.code as string,
    message: res.body.message as string,
  });

  beforeAll(async () => {
    issuer = await TestOidcIssuer.start();
    stranger = await TestOidcIssuer.start();
    t = await createTestApp({
      OIDC_ISSUERS: issuer.url,
      OIDC_ALLOW_HTTP_ISSUERS: 'true',
      ADMIN_TOKEN,
      // Refusals are the point here: the failed-login limit must not turn them into 429s.
      RATE_LIMIT_AUTH_FAILURES: '0',
    });
    await t.app.listen(0, '127.0.0.1');
    api = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    await createTeam(t, 'acme');
    const main = await addPolicy({
      name: 'main',
      issuer: issuer.url,
      audience: AUDIENCE,
      conditions: {
        repository_owner_id: { eq: OWNER_ID },
        ref: { eq: 'refs/heads/main' },
        event_name: { in: ['push', 'workflow_dispatch'] },
      },
      access: 'read-write',
      tier: 'trusted',
    }).expect(201);
    const pr = await addPolicy({
      name: 'pr',
      issuer: `${issuer.url}/`,
      audience: AUDIENCE,
      conditions: {
        repository_owner_id: { eq: OWNER_ID },
        event_name: { eq: 'pull_request' },
        head_ref: { present: true },
      },
      access: 'read-write',
      tier: 'untrusted',
      scope: '{repository_id}-{head_ref}',
      ttlSeconds: 1800,
    }).expect(201);
    policyIds.main = main.body.id;
    policyIds.pr = pr.body.id;
  });
  afterAll(async () => {
    await t?.close();
    await issuer?.close();
    await stranger?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('a main-branch job (policy "main": trusted, read-write)', () => {
    it('gets a trusted read-write token from the RFC 8693 form, and turbo fills the cache with it', async () => {
      const runId = '7001';
      // The body curl -d sends: application/x-www-form-urlencoded.
      const form = new URLSearchParams({
        grant_type: GRANT,
        subject_token_type: ID_TOKEN,
        subject_token: await issuer.sign(jobClaims({ run_id: runId })),
        team: 'acme',
      }).toString();
      const res = await request(t.server).post('/oidc/token').type('form').send(form);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 3600,
        team: 'acme',
        tier: 'trusted',
        access: 'read-write',
        policy: 'main',
      });
      const token = res.body.access_token as string;

      // The token record: the policy, the job, one hour.
      const tokens = (await admin('get', '/admin/teams/acme/tokens').expect(200)).body as {
        id: string;
        name: string;
        expiresAt: string;
        oidc?: { policyId: string; job: Record<string, string> };
      }[];
      const record = tokens.find((row) => row.oidc?.job.run_id === runId)!;
      expect(record).toMatchObject({
        name: 'oidc:main acme/widgets@refs/heads/main',
        scope: 'read-write',
        revokedAt: null,
        oidc: {
          policyId: policyIds.main,
          job: {
            iss: issuer.url,
            sub: 'repo:acme/widgets:ref:refs/heads/main',
            repository_id: REPO_ID,
            repository_owner_id: OWNER_ID,
            ref: 'refs/heads/main',
            event_name: 'push',
            run_id: runId,
          },
        },
      });
      expect(record.id).toBe(decodeJwt(token).jti);
      expect(record).not.toHaveProperty('tier');
      expect(new Date(record.expiresAt).getTime() - Date.now()).toBeGreaterThan(3_590_000);
      expect(new Date(record.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);

      const env = { TURBO_API: api, TURBO_TOKEN: token, TURBO_TEAM: 'acme' };
      const repo = createMonorepo(PACKAGES);
      dirs.push(repo);
      const first = await turboRun(repo, env);
      expect(first.status).toBe(0);
      expect(first.output).toMatch(/Cached:\s+0 cached, 3 total/);
      const clone = cloneRepo(repo);
      dirs.push(clone);
      const second = await turboRun(clone, env);
      expect(second.output).toMatch(/Cached:\s+3 cached, 3 total/);
      expect(readOutputs(clone, PACKAGES)).toEqual(readOutputs(repo, PACKAGES));

      // Provenance: every stored entry was written by the exchanged token.
      const hashes = Object.values(taskHashes(first, 'miss'));
      expect(hashes).toHaveLength(3);
      for (const hash of hashes) {
        const shown = await admin('get', `/admin/teams/acme/artifacts/${hash}`).expect(200);
        const versions = shown.body.versions as Version[];
        expect(versions).toHaveLength(1);
        expect(versions[0]).toMatchObject({ tier: 'trusted', scope: null });
        expect(versions[0].writer.tokenId).toBe(record.id);
        expect(versions[0].writer.tokenName).toMatch(/^oidc:main /);
      }
    });
  });

  describe('a pull-request job (policy "pr": untrusted, scope {repository_id}-{head_ref})', () => {
    it("gets an untrusted token in its own overlay, whose writes main's token never reads", async () => {
      const res = await exchange(
        await issuer.sign(
          jobClaims({
            sub: 'repo:acme/widgets:pull_request',
            event_name: 'pull_request',
            ref: 'refs/pull/42/merge',
            head_ref: 'feature/login',
          }),
        ),
      ).expect(200);
      // "feature/login" is not a scope name: readable part, then 16 hex of its sha256.
      const scope = expect.stringMatching(new RegExp(`^${REPO_ID}-feature-login-[0-9a-f]{16}$`));
      expect(res.body).toEqual({
        access_token: expect.any(String),
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: 1800,
        team: 'acme',
        tier: 'untrusted',
        access: 'read-write',
        scope,
        policy: 'pr',
      });
      const prToken = res.body.access_token as string;

      const hash = randomHash();
      const body = randomBytes(500);
      await putArtifact(t.server, prToken, hash, body).expect(202);
      expect((await getArtifact(t.server, await mainToken(), hash)).status).toBe(404);
      const own = await getArtifact(t.server, prToken, hash);
      expect(own.status).toBe(200);
      expect(own.body).toEqual(body);

      const versions = (await admin('get', `/admin/teams/acme/artifacts/${hash}`).expect(200)).body
        .versions as Version[];
      expect(versions).toHaveLength(1);
      expect(versions[0]).toMatchObject({ tier: 'untrusted', scope: res.body.scope });
      expect(versions[0].writer.tokenName).toBe('oidc:pr acme/widgets@refs/pull/42/merge');
    });
  });

  describe('refusals', () => {
    it('refuses a token for another audience, without saying which one is expected', async () => {
      const res = await exchange(await issuer.sign(jobClaims({ aud: 'https://cache.evil.test' })));
      expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
      expect(res.body.message).toMatch(/^no trust policy of team acme matches this token/);
      expect(failedClaimsOf(res.body.message)).toEqual({
        main: ['aud'],
        pr: ['aud', 'event_name', 'head_ref'],
      });
      expect(res.body.message).not.toContain(AUDIENCE);
    });

    it('refuses an issuer not in OIDC_ISSUERS without contacting it', async () => {
      const res = await exchange(await stranger.sign(jobClaims()));
      expect(refusal(res)).toEqual({
        status: 401,
        code: 'invalid_grant',
        message: `issuer ${stranger.url} is not allowed (OIDC_ISSUERS)`,
      });
      expect(stranger.requestCount).toBe(0);
    });

    it('refuses an expired token (exp more than the 60 s skew ago)', async () => {
      const now = issuerNow();
      const res = await exchange(await issuer.sign(jobClaims({ iat: now - 600, exp: now - 120 })));
      expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
      expect(res.body.message).toBe('the CI token has expired (exp)');
    });

    it('refuses a token not valid yet (nbf in the future)', async () => {
      const res = await exchange(await issuer.sign(jobClaims({ nbf: issuerNow() + 600 })));
      expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
      expect(res.body.message).toBe('the CI token is not valid yet (nbf)');
    });

    it('refuses an unsigned token (alg: none)', async () => {
      const res = await exchange(issuer.unsigned(jobClaims()));
      expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
      expect(res.body.message).toContain('algorithm "none" is not accepted (RS256, ES256 only)');
    });

    it("refuses an HS256 forgery keyed with the issuer's public key", async () => {
      const res = await exchange(await issuer.hmacForgery(jobClaims()));
      expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
      expect(res.body.message).toContain('algorithm "HS256" is not accepted');
    });

    it('refuses a token naming a published key id but signed with another key', async () => {
      const rogue = await issuer.addKey({ publish: false });
      const res = await exchange(
        await issuer.sign(jobClaims(), { kid: rogue, headerKid: issuer.kid }),
      );
      expect(refusal(res)).toEqual({
        status: 401,
        code: 'invalid_grant',
        message: "the CI token's signature does not verify",
      });
    });

    it("names the claims that do not match, never the policy's expected values", async () => {
      const res = await exchange(
        await issuer.sign(
          jobClaims({
            repository_owner_id: '400500',
            ref: 'refs/heads/dev',
            event_name: 'schedule',
          }),
        ),
      );
      expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
      expect(failedClaimsOf(res.body.message)).toEqual({
        main: ['event_name', 'ref', 'repository_owner_id'],
        pr: ['event_name', 'head_ref', 'repository_owner_id'],
      });
      for (const expected of [OWNER_ID, 'refs/heads/main', 'workflow_dispatch', 'pull_request']) {
        expect(res.body.message).not.toContain(expected);
      }
    });

    it('matches a glob only by its own wildcards: a * or ? in the claim is a literal', async () => {
      const release = await addPolicy({
        name: 'release',
        issuer: issuer.url,
        audience: AUDIENCE,
        conditions: {
          repository_owner_id: { eq: OWNER_ID },
          ref: { glob: 'refs/heads/release/*' },
        },
        access: 'read-only',
        tier: 'trusted',
      }).expect(201);
      try {
        for (const ref of ['refs/heads/*', '*', 'refs/heads/release*', 'refs/heads/re?ease/1.0']) {
          const res = await exchange(await issuer.sign(jobClaims({ ref })));
          expect(refusal(res)).toMatchObject({ status: 401, code: 'invalid_grant' });
          expect(failedClaimsOf(res.body.message)).toEqual({
            main: ['ref'],
            pr: ['event_name', 'head_ref'],
            release: ['ref'],
          });
        }
        const ok = await exchange(await issuer.sign(jobClaims({ ref: 'refs/heads/release/2.0' })));
        expect(ok.status).toBe(200);
        expect(ok.body).toMatchObject({ policy: 'release', access: 'read-only', tier: 'trusted' });
      } finally {
        await admin('delete', `/admin/oidc-policies/${release.body.id}`).expect(200);
      }
    });

    it('refuses a token two policies match (400) unless policy= names one', async () => {
      const mirror = await addPolicy({
        name: 'main-read',
        issuer: issuer.url,
        audience: AUDIENCE,
        conditions: { repository_id: { in: [REPO_ID] }, ref: { eq: 'refs/heads/main' } },
        access: 'read-only',
        tier: 'trusted',
      }).expect(201);
      try {
        const token = await issuer.sign(jobClaims());
        const ambiguous = await exchange(token);
        expect(refusal(ambiguous)).toEqual({
          status: 400,
          code: 'bad_request',
          message:
            'trust policies main, main-read of team acme all match this token: name one with policy=<name>',
        });
        // The refusal did not spend the token: naming the policy exchanges it.
        const named = await exchange(token, { policy: 'main-read' });
        expect(named.status).toBe(200);
        expect(named.body).toMatchObject({ policy: 'main-read', access: 'read-only' });
        const byId = await exchange(await issuer.sign(jobClaims()), { policy: policyIds.main });
        expect(byId.body).toMatchObject({ policy: 'main', access: 'read-write' });
      } finally {
        await admin('delete', `/admin/oidc-policies/${mirror.body.id}`).expect(200);
      }
    });

    it('exchanges a CI token once: its jti cannot be spent again, even re-signed', async () => {
      const jti = `jti-${randomHash()}`;
      const token = await issuer.sign(jobClaims({ jti }));
      await exchange(token).expect(200);
      expect(refusal(await exchange(token))).toEqual({
        status: 401,
        code: 'invalid_grant',
        message: 'this CI token was already exchanged (jti)',
      });
      const resigned = await exchange(await issuer.sign(jobClaims({ jti, iat: issuerNow() - 5 })));
      expect(refusal(resigned).message).toBe('this CI token was already exchanged (jti)');
    });

    it('refuses another grant type (400 unsupported_grant_type)', async () => {
      const res = await exchange(await issuer.sign(jobClaims()), {
        grant_type: 'client_credentials',
      });
      expect(refusal(res)).toEqual({
        status: 400,
        code: 'unsupported_grant_type',
        message: `grant_type must be ${GRANT}`,
      });
    });
  });

  describe('POST /oidc/revoke', () => {
    it('revokes an exchanged token: 200, then the cache refuses it within AUTH_RECHECK_MS', async () => {
      const token = await mainToken();
      await request(t.server).get('/v8/artifacts/status').set(bearer(token)).expect(200);
      const revoked = await request(t.server)
        .post('/oidc/revoke')
        .type('form')
        .send(new URLSearchParams({ token }).toString());
      expect(revoked.status).toBe(200);
      expect(revoked.body).toEqual({});
      await eventually(async () => {
        const res = await request(t.server).get('/v8/artifacts/status').set(bearer(token));
        expect(refusal(res)).toEqual({
          status: 401,
          code: 'unauthorized',
          message: 'token has been revoked',
        });
      }, AUTH_RECHECK_MS);
      // The record says so; a cache token's jti is its record's id.
      const tokens = (await admin('get', '/admin/teams/acme/tokens').expect(200)).body as {
        id: string;
        revokedAt: string | null;
      }[];
      expect(tokens.find((row) => row.id === decodeJwt(token).jti)?.revokedAt).toEqual(
        expect.any(String),
      );
      // Revoking it again is answered alike (RFC 7009).
      await request(t.server).post('/oidc/revoke').send({ token }).expect(200, {});
    });

    it('answers 200 for a token that is not one (RFC 7009 2.2) and revokes nothing', async () => {
      const live = await mainToken();
      // A forged signature on a live token's claims must not revoke the live token.
      for (const token of ['not-a-token', `${live.slice(0, -4)}AAAA`]) {
        const res = await request(t.server).post('/oidc/revoke').send({ token });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({});
      }
      await request(t.server).get('/v8/artifacts/status').set(bearer(live)).expect(200);
    });

    it('answers 400 without a token', async () => {
      const missing = await request(t.server).post('/oidc/revoke').send({});
      expect(refusal(missing)).toMatchObject({ status: 400, code: 'bad_request' });
      expect(missing.body.message).toBe('token must be the cache token to revoke');
    });
  });
});
