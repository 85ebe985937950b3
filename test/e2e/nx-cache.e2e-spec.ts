import { Logger } from '@nestjs/common';
import request from 'supertest';
import { nxStoredHash } from '../../src/storage/blob-keys';
import type { Team } from '../../src/teams/team.entity';
import { getArtifact, putArtifact } from '../support/artifacts';
import { cutOffNxPut, nxBody, nxCounters, nxGet, nxPut, randomNxHash } from '../support/nx-cache';
import { bearer, createTeam, issueToken, pauseTeam, revokeToken } from '../support/teams';
import { createTestAppOn, TestApp } from '../support/test-app';
import { blobExists, storedBlobKeys, storedHashes } from '../support/usage';
import { eventually } from '../support/wait';

const MAX = 64 * 1024;
const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
/** Nx reads a 401 with a charset as a misconfigured server: the type must be exactly this. */
const TEXT = 'text/plain';

/**
 * The Nx self-hosted cache API (nx 20.8 to 24), as the Nx client sees it: GET 200 hit / 404 miss
 * (anything else stops the run), PUT 200 stored / 403 and 409 skipped (anything else fails the
 * task), and the bearer token is the tenant.
 */
describe.each(['fs', 's3'] as const)('Nx cache API on %s storage', (driver) => {
  let t: TestApp;
  let team: Team;
  let token: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    // QUOTA_MODE=reject without a default quota: only teams given one (PATCH policy) are capped.
    t = await createTestAppOn(driver, {
      MAX_ARTIFACT_SIZE: String(MAX),
      ADMIN_TOKEN,
      QUOTA_MODE: 'reject',
    });
    team = await createTeam(t, 'acme');
    token = (await issueToken(t, team)).token;
  });
  afterAll(() => t.close());

  const counters = () => nxCounters(t.server, team.slug);
  const nxStored = (teamId: string, hash: string) => blobExists(t, teamId, nxStoredHash(hash));
  /** A team whose tokens are issued first and used only once it is paused. */
  const pausedTeamToken = async (slug: string) => {
    const paused = await createTeam(t, slug);
    const issued = (await issueToken(t, paused)).token;
    await pauseTeam(t, paused);
    return { paused, token: issued };
  };
  const setQuota = (slug: string, quota: string) =>
    request(t.server)
      .patch(`/admin/teams/${slug}/policy`)
      .set(bearer(ADMIN_TOKEN))
      .send({ quota })
      .expect(200);

  describe('GET /v1/cache/{hash}', () => {
    it('answers a hit with 200 and the exact bytes as application/octet-stream', async () => {
      const hash = randomNxHash();
      const body = nxBody(5_000);
      expect((await nxPut(t.server, hash, body, token)).status).toBe(200);
      const before = await counters();
      const res = await nxGet(t.server, hash, token);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-length']).toBe(String(body.length));
      expect(res.body.equals(body)).toBe(true);
      expect((await counters()).lookups('hit')).toBe(before.lookups('hit') + 1);
    });

    it('answers a miss with 404', async () => {
      const before = await counters();
      const res = await nxGet(t.server, randomNxHash(), token);
      expect(res.status).toBe(404);
      expect((await counters()).lookups('miss')).toBe(before.lookups('miss') + 1);
    });

    it('answers 401 in text/plain exactly without a token', async () => {
      const before = await counters();
      const res = await nxGet(t.server, randomNxHash());
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe(TEXT);
      expect(res.body.toString()).toMatch(/bearer token/);
      const after = await counters();
      expect(after.refusals('GET', 'unauthorized')).toBe(
        before.refusals('GET', 'unauthorized') + 1,
      );
    });

    it.each(['bad', 'expired', 'revoked'] as const)(
      'answers 401 in text/plain exactly to a %s token',
      async (kind) => {
        const issued = await issueToken(t, team, { expiresIn: '1h' });
        if (kind === 'expired') {
          await t.dataSource.query(
            `UPDATE tokens SET expires_at = now() - interval '1 minute' WHERE id = $1`,
            [issued.id],
          );
        }
        if (kind === 'revoked') await revokeToken(t, issued.id);
        const sent = kind === 'bad' ? `${issued.token}x` : issued.token;
        const res = await nxGet(t.server, randomNxHash(), sent);
        expect(res.status).toBe(401);
        expect(res.headers['content-type']).toBe(TEXT);
        expect(res.body.toString()).toMatch(kind === 'bad' ? /invalid token/ : new RegExp(kind));
      },
    );

    it('answers a paused team with 404 (a miss, so Nx runs on), not 403', async () => {
      const { paused, token: pausedToken } = await pausedTeamToken('paused-reader');
      const before = await counters();
      const res = await nxGet(t.server, randomNxHash(), pausedToken);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe(TEXT);
      expect(res.body.toString()).toMatch(new RegExp(`paused for team ${paused.slug}`));
      const after = await counters();
      expect(after.refusals('GET', 'forbidden')).toBe(before.refusals('GET', 'forbidden') + 1);
    });

    it("answers 404 to another team's token for this team's entry", async () => {
      const hash = randomNxHash();
      expect((await nxPut(t.server, hash, nxBody(100), token)).status).toBe(200);
      const other = await createTeam(t, 'other');
      const otherToken = (await issueToken(t, other)).token;
      expect((await nxGet(t.server, hash, otherToken)).status).toBe(404);
      expect((await nxGet(t.server, hash, token)).status).toBe(200);
    });

    it.each([
      ['a non-digit hash', 'abc123'],
      ['a hex hash', '0123456789abcdef'],
      ['a hash of 21 digits', '1'.repeat(21)],
      ["a custom hasher's hash with a slash", 'my/static-hash'],
    ])(
      'answers a miss (404, never a run-stopping 400) to %s, and skips its upload (403)',
      async (_name, hash) => {
        const res = await nxGet(t.server, hash, token);
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toBe(TEXT);
        expect(res.body.toString()).toMatch(/1 to 20 decimal digits/);
        const put = await nxPut(t.server, hash, nxBody(10), token);
        expect(put.status).toBe(403);
        expect(put.headers['content-type']).toBe(TEXT);
      },
    );

    it('accepts a hash of 20 digits (the largest u64)', async () => {
      const hash = '18446744073709551615';
      expect((await nxGet(t.server, hash, token)).status).toBe(404);
      const body = nxBody(300);
      expect((await nxPut(t.server, hash, body, token)).status).toBe(200);
      expect((await nxGet(t.server, hash, token)).body.equals(body)).toBe(true);
    });
  });

  describe('PUT /v1/cache/{hash}', () => {
    it('answers 200 OK, then GET returns the bytes', async () => {
      const hash = randomNxHash();
      const body = nxBody(20_000);
      const res = await nxPut(t.server, hash, body, token);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(TEXT);
      expect(res.body.toString()).toBe('OK');
      expect((await storedHashes(t, team.id)).filter((h) => h === nxStoredHash(hash))).toHaveLength(
        1,
      );
      expect((await nxGet(t.server, hash, token)).body.equals(body)).toBe(true);
    });

    it('lets exactly one of several concurrent PUTs of a hash win; the others get 409 and leave no body', async () => {
      const hash = randomNxHash();
      const bodies = [1, 2, 3, 4].map(() => nxBody(2_000));
      const before = await storedBlobKeys(t, team.id);
      // None of them finds a row before its body: the losers are refused at the commit.
      const statuses = (
        await Promise.all(bodies.map((body) => nxPut(t.server, hash, body, token)))
      ).map((res) => res.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(3);
      const winner = bodies[statuses.indexOf(200)];
      expect((await nxGet(t.server, hash, token)).body.equals(winner)).toBe(true);
      const added = (await storedBlobKeys(t, team.id)).filter((key) => !before.includes(key));
      expect(added).toHaveLength(1);
      expect(added[0]).toContain(`/${nxStoredHash(hash)}.`);
    });

    it('answers 409 to the same hash again and keeps the first bytes', async () => {
      const hash = randomNxHash();
      const first = nxBody(1_000);
      expect((await nxPut(t.server, hash, first, token)).status).toBe(200);
      const keys = await storedBlobKeys(t, team.id);
      const before = await counters();
      const again = await nxPut(t.server, hash, nxBody(1_000), token);
      expect(again.status).toBe(409);
      expect(again.headers['content-type']).toBe(TEXT);
      expect((await nxGet(t.server, hash, token)).body.equals(first)).toBe(true);
      expect(await storedBlobKeys(t, team.id)).toEqual(keys);
      expect((await counters()).refusals('PUT', 'exists')).toBe(
        before.refusals('PUT', 'exists') + 1,
      );
    });

    it('answers 403 in text/plain to a read-only token and stores nothing', async () => {
      const readOnly = (await issueToken(t, team, { readOnly: true })).token;
      const hash = randomNxHash();
      const before = await counters();
      const res = await nxPut(t.server, hash, nxBody(100), readOnly);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe(TEXT);
      expect(res.body.toString()).toMatch(/read-only/);
      expect((await nxGet(t.server, hash, token)).status).toBe(404);
      expect(await nxStored(team.id, hash)).toBe(false);
      const after = await counters();
      expect(after.refusals('PUT', 'forbidden')).toBe(before.refusals('PUT', 'forbidden') + 1);
    });

    it('answers 403 to a paused team and stores nothing', async () => {
      const { paused, token: pausedToken } = await pausedTeamToken('paused-writer');
      const hash = randomNxHash();
      const res = await nxPut(t.server, hash, nxBody(100), pausedToken);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toBe(TEXT);
      expect(await storedHashes(t, paused.id)).toEqual([]);
    });

    it('answers 403 to a team over its quota (QUOTA_MODE=reject) and stores nothing', async () => {
      const full = await createTeam(t, 'full');
      const fullToken = (await issueToken(t, full)).token;
      await setQuota('full', '1000');
      const turboHash = 'abcdef0123456789';
      await putArtifact(t.server, fullToken, turboHash, nxBody(600)).expect(202);
      const hash = randomNxHash();
      const res = await nxPut(t.server, hash, nxBody(500), fullToken);
      expect(res.status).toBe(403);
      expect(res.body.toString()).toMatch(/quota/);
      expect(await storedHashes(t, full.id)).toEqual([turboHash]);
      expect(await nxStored(full.id, hash)).toBe(false);
    });

    it('answers 401 in text/plain exactly without a token', async () => {
      const hash = randomNxHash();
      const res = await nxPut(t.server, hash, nxBody(100));
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe(TEXT);
      expect((await nxGet(t.server, hash, token)).status).toBe(404);
    });

    it('skips (403, not a retried 413) a Content-Length over MAX_ARTIFACT_SIZE before reading the body', async () => {
      const hash = randomNxHash();
      const res = await nxPut(t.server, hash, nxBody(1_000), token, { 'Content-Length': MAX + 1 });
      expect(res.status).toBe(403);
      expect(res.body.toString()).toMatch(/limit/);
      expect(res.headers['content-type']).toBe(TEXT);
      expect(await nxStored(team.id, hash)).toBe(false);
    });

    it('commits nothing of a cut-off upload, and a full upload of the hash then succeeds', async () => {
      const hash = randomNxHash();
      await cutOffNxPut(t.server, token, hash, 40_000, 20_000);
      // The server notices the hang-up, then removes what it wrote.
      await eventually(async () => {
        expect((await nxGet(t.server, hash, token)).status).toBe(404);
        expect(await nxStored(team.id, hash)).toBe(false);
      });
      const body = nxBody(40_000);
      expect((await nxPut(t.server, hash, body, token)).status).toBe(200);
      expect((await nxGet(t.server, hash, token)).body.equals(body)).toBe(true);
    });

    it('refuses a body longer than its Content-Length with 400, keeping exactly Content-Length bytes or nothing', async () => {
      const hash = randomNxHash();
      const body = nxBody(1_500);
      // The bytes past Content-Length are a malformed next request: Node's parser fails it and
      // the connection closes with 400 while the upload of the first 1,000 bytes may finish.
      const res = await nxPut(t.server, hash, body, token, { 'Content-Length': 1_000 });
      expect(res.status).toBe(400);
      const first = body.subarray(0, 1_000);
      const read = await nxGet(t.server, hash, token);
      expect([200, 404]).toContain(read.status);
      if (read.status === 200) expect(read.body.equals(first)).toBe(true);
      // Nx retries a 400: the retry is stored (200) or finds the entry (409, skipped).
      expect([200, 409]).toContain((await nxPut(t.server, hash, first, token)).status);
      expect((await nxGet(t.server, hash, token)).body.equals(first)).toBe(true);
      await eventually(async () => {
        const keys = await storedBlobKeys(t, team.id);
        expect(keys.filter((key) => key.includes(`/${nxStoredHash(hash)}.`))).toHaveLength(1);
      });
    });
  });

  describe('Nx and turbo entries of one team', () => {
    it('keep their own bytes under the same digits, and both count as stored', async () => {
      const ns = await createTeam(t, 'namespaces');
      const nsToken = (await issueToken(t, ns)).token;
      const hash = '12345678901234567890';
      const turbo = nxBody(700);
      const nx = nxBody(300);
      await putArtifact(t.server, nsToken, hash, turbo, {}, `?slug=${ns.slug}`).expect(202);
      expect((await nxPut(t.server, hash, nx, nsToken)).status).toBe(200);

      expect((await nxGet(t.server, hash, nsToken)).body.equals(nx)).toBe(true);
      const turboGet = await getArtifact(t.server, nsToken, hash, `?slug=${ns.slug}`).expect(200);
      expect((turboGet.body as Buffer).equals(turbo)).toBe(true);
      expect(await storedHashes(t, ns.id)).toEqual([hash, nxStoredHash(hash)]);
      const policy = await request(t.server)
        .get(`/admin/teams/${ns.slug}/policy`)
        .set(bearer(ADMIN_TOKEN))
        .expect(200);
      expect(policy.body).toMatchObject({ artifacts: 2, storedBytes: 1_000 });

      // A purge of the team takes both.
      await request(t.server)
        .post(`/admin/teams/${ns.slug}/purge`)
        .set(bearer(ADMIN_TOKEN))
        .send({})
        .expect(200);
      expect((await nxGet(t.server, hash, nsToken)).status).toBe(404);
      await getArtifact(t.server, nsToken, hash).expect(404);
      expect(await storedBlobKeys(t, ns.id)).toEqual([]);
    });

    it('counts an Nx upload against the team quota', async () => {
      const capped = await createTeam(t, 'capped');
      const cappedToken = (await issueToken(t, capped)).token;
      await setQuota('capped', '1000');
      const hash = randomNxHash();
      expect((await nxPut(t.server, hash, nxBody(600), cappedToken)).status).toBe(200);
      const turbo = await putArtifact(t.server, cappedToken, 'fedcba9876543210', nxBody(500));
      expect(turbo.status).toBe(403);
      expect((await nxPut(t.server, randomNxHash(), nxBody(500), cappedToken)).status).toBe(403);
      expect(await storedHashes(t, capped.id)).toEqual([nxStoredHash(hash)]);
    });
  });

  it('still serves after every refusal above: a final healthy PUT and GET', async () => {
    const hash = randomNxHash();
    const body = nxBody(2_000);
    expect((await nxPut(t.server, hash, body, token)).status).toBe(200);
    expect((await nxGet(t.server, hash, token)).body.equals(body)).toBe(true);
  });
});
