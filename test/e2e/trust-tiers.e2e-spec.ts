import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { nxStoredHash } from '../../src/storage/blob-keys';
import type { Team } from '../../src/teams/team.entity';
import { TrustTier } from '../../src/trust/trust-tier';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { metricValue, scrapeMetrics } from '../support/metrics';
import { nxBody, nxGet, nxPut, randomNxHash } from '../support/nx-cache';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestAppOn, TestApp } from '../support/test-app';
import { ageArtifact, storedBlobKeys, sweep } from '../support/usage';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';

type Location = 'trusted' | 'own overlay' | 'other overlay';
type Reader = 'trusted' | 'untrusted';
type Operation = 'GET' | 'HEAD' | 'query';

/**
 * Trust tiers (issue 16, CVE-2025-36852 "CREEP"): what each tier of token sees and where each
 * of its writes lands, over raw HTTP, for turbo's routes (GET, HEAD, the query, PUT) and Nx's.
 * Tokens: "main" (trusted read-write), "pr-a" and "pr-b" (untrusted read-write, scopes pr-a and
 * pr-b), "pr-a-ro" (untrusted read-only, scope pr-a).
 */
describe.each(['fs', 's3'] as const)('trust tiers on %s storage', (driver) => {
  let t: TestApp;
  let team: Team;
  const tokens: Record<'main' | 'prA' | 'prB' | 'prARo', { id: string; token: string }> =
    {} as never;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    t = await createTestAppOn(driver, { ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' });
    team = await createTeam(t, 'acme');
    tokens.main = await issueToken(t, team, { name: 'main' });
    tokens.prA = await issueToken(t, team, {
      name: 'pr-a',
      tier: TrustTier.Untrusted,
      overlayScope: 'pr-a',
    });
    tokens.prB = await issueToken(t, team, {
      name: 'pr-b',
      tier: TrustTier.Untrusted,
      overlayScope: 'pr-b',
    });
    tokens.prARo = await issueToken(t, team, {
      name: 'pr-a-ro',
      tier: TrustTier.Untrusted,
      overlayScope: 'pr-a',
      readOnly: true,
    });
  });
  afterAll(() => t.close());

  const tokenOf = (reader: Reader) => (reader === 'trusted' ? tokens.main : tokens.prA).token;
  const writerOf = (location: Location) =>
    ({ trusted: tokens.main, 'own overlay': tokens.prA, 'other overlay': tokens.prB })[location];

  /** The rows of a stored hash: namespace and writer name, by namespace. */
  const rowsOf = async (hash: string) =>
    (await t.dataSource.query(
      `SELECT overlay_scope, writer_token_id, writer_token_name FROM artifacts
        WHERE team_id = $1 AND hash = $2 ORDER BY overlay_scope`,
      [team.id, hash],
    )) as { overlay_scope: string; writer_token_id: string; writer_token_name: string }[];

  /** The bytes `reader` gets for `hash` by `operation` (HEAD and query: the size), or null. */
  async function seen(reader: Reader, operation: Operation, hash: string) {
    const token = tokenOf(reader);
    if (operation === 'GET') {
      const res = await getArtifact(t.server, token, hash);
      expect([200, 404]).toContain(res.status);
      return res.status === 200 ? (res.body as Buffer) : null;
    }
    if (operation === 'HEAD') {
      const res = await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token));
      expect([200, 404]).toContain(res.status);
      return res.status === 200 ? Number(res.headers['content-length']) : null;
    }
    const res = await request(t.server)
      .post('/v8/artifacts')
      .set(bearer(token))
      .send({ hashes: [hash] })
      .expect(200);
    const summary = res.body[hash] as { size: number } | null;
    return summary === null ? null : summary.size;
  }

  describe('reads: tier x operation x where the entry is', () => {
    const stored = new Map<Location, { hash: string; body: Buffer }>();

    beforeAll(async () => {
      for (const location of ['trusted', 'own overlay', 'other overlay'] as const) {
        const hash = randomHash();
        const body = randomBytes(1_000 + stored.size * 100);
        await putArtifact(t.server, writerOf(location).token, hash, body).expect(202);
        stored.set(location, { hash, body });
      }
    });

    const expected: Record<Reader, Record<Location, boolean>> = {
      trusted: { trusted: true, 'own overlay': false, 'other overlay': false },
      untrusted: { trusted: true, 'own overlay': true, 'other overlay': false },
    };
    const cases = (['trusted', 'untrusted'] as const).flatMap((reader) =>
      (['GET', 'HEAD', 'query'] as const).flatMap((operation) =>
        (['trusted', 'own overlay', 'other overlay'] as const).map(
          (location) => [reader, operation, location, expected[reader][location]] as const,
        ),
      ),
    );

    it.each(cases)(
      'a %s reader, by %s, of an entry in the %s namespace: visible %s',
      async (reader, operation, location, visible) => {
        const { hash, body } = stored.get(location)!;
        // Twice: the first request of a token goes through Nest, the next through the fast path.
        for (let i = 0; i < 2; i++) {
          const answer = await seen(reader, operation, hash);
          if (!visible) expect(answer).toBeNull();
          else expect(answer).toEqual(operation === 'GET' ? body : body.length);
        }
      },
    );

    it('a read-only untrusted token of the same scope sees that overlay too', async () => {
      const { hash, body } = stored.get('own overlay')!;
      const res = await getArtifact(t.server, tokens.prARo.token, hash).expect(200);
      expect(res.body).toEqual(body);
      const other = stored.get('other overlay')!;
      await getArtifact(t.server, tokens.prARo.token, other.hash).expect(404);
    });

    it('gives an untrusted reader the trusted entry when its overlay has one too', async () => {
      const hash = randomHash();
      const trusted = randomBytes(700);
      const overlay = randomBytes(900);
      await putArtifact(t.server, tokens.prA.token, hash, overlay).expect(202);
      expect((await getArtifact(t.server, tokens.prA.token, hash).expect(200)).body).toEqual(
        overlay,
      );
      await putArtifact(t.server, tokens.main.token, hash, trusted).expect(202);
      for (const token of [tokens.prA.token, tokens.main.token, tokens.prB.token]) {
        expect((await getArtifact(t.server, token, hash).expect(200)).body).toEqual(trusted);
      }
      const query = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(tokens.prA.token))
        .send({ hashes: [hash] })
        .expect(200);
      expect(query.body[hash]).toMatchObject({ size: trusted.length });
    });
  });

  describe('PUT matrix: writer tier x where an entry already is', () => {
    const namespaceOf = { main: '', prA: 'pr-a', prB: 'pr-b' } as const;
    type Writer = keyof typeof namespaceOf;
    const cases = (['main', 'prA'] as const).flatMap((writer) =>
      ([null, 'main', 'prA', 'prB'] as const).map((existing) => [writer, existing] as const),
    );

    it.each(cases)(
      'a PUT by %s over an entry written by %s lands in its own namespace only',
      async (writer, existing) => {
        const hash = randomHash();
        // What each namespace holds, as the model says, by namespace.
        const model = new Map<string, { writer: Writer; body: Buffer }>();
        if (existing) {
          const body = randomBytes(256);
          await putArtifact(t.server, tokens[existing].token, hash, body).expect(202);
          model.set(namespaceOf[existing], { writer: existing, body });
        }
        const body = randomBytes(512);
        await putArtifact(t.server, tokens[writer].token, hash, body).expect(202);
        model.set(namespaceOf[writer], { writer, body });

        const rows = await rowsOf(hash);
        expect(rows.map((row) => [row.overlay_scope, row.writer_token_id])).toEqual(
          [...model.entries()]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([namespace, entry]) => [namespace, tokens[entry.writer].id]),
        );
        for (const reader of ['main', 'prA', 'prB'] as const) {
          const visible =
            model.get('') ?? (reader === 'main' ? undefined : model.get(namespaceOf[reader]));
          const res = await getArtifact(t.server, tokens[reader].token, hash);
          expect(res.status).toBe(visible ? 200 : 404);
          if (visible) expect(res.body).toEqual(visible.body);
        }
      },
    );
  });

  describe('writes: where each lands', () => {
    it('lands a trusted PUT in the trusted namespace, with its writer', async () => {
      const hash = randomHash();
      await putArtifact(t.server, tokens.main.token, hash, randomBytes(100)).expect(202);
      expect(await rowsOf(hash)).toEqual([
        { overlay_scope: '', writer_token_id: tokens.main.id, writer_token_name: 'main' },
      ]);
    });

    it('keeps an untrusted PUT of a hash missing from the trusted namespace in its overlay, invisible to trusted readers', async () => {
      const hash = randomHash();
      const poison = randomBytes(500);
      await putArtifact(t.server, tokens.prA.token, hash, poison).expect(202);
      expect(await rowsOf(hash)).toEqual([
        { overlay_scope: 'pr-a', writer_token_id: tokens.prA.id, writer_token_name: 'pr-a' },
      ]);
      for (const operation of ['GET', 'HEAD', 'query'] as const) {
        expect(await seen('trusted', operation, hash)).toBeNull();
      }
      await getArtifact(t.server, tokens.prB.token, hash).expect(404);
      expect((await getArtifact(t.server, tokens.prA.token, hash).expect(200)).body).toEqual(
        poison,
      );
    });

    it('never lets an untrusted PUT replace a trusted entry: it lands beside it', async () => {
      const hash = randomHash();
      const clean = randomBytes(300);
      await putArtifact(t.server, tokens.main.token, hash, clean).expect(202);
      await putArtifact(t.server, tokens.prA.token, hash, randomBytes(300)).expect(202);
      expect((await rowsOf(hash)).map((row) => row.overlay_scope)).toEqual(['', 'pr-a']);
      expect((await getArtifact(t.server, tokens.main.token, hash).expect(200)).body).toEqual(
        clean,
      );
    });

    it('replaces within a namespace: a later trusted upload repairs the trusted entry, a later untrusted one its overlay', async () => {
      const hash = randomHash();
      const [first, second, third, fourth] = [1, 2, 3, 4].map(() => randomBytes(200));
      await putArtifact(t.server, tokens.main.token, hash, first).expect(202);
      await putArtifact(t.server, tokens.main.token, hash, second).expect(202);
      await putArtifact(t.server, tokens.prB.token, hash, third).expect(202);
      await putArtifact(t.server, tokens.prB.token, hash, fourth).expect(202);
      expect((await getArtifact(t.server, tokens.main.token, hash).expect(200)).body).toEqual(
        second,
      );
      expect((await rowsOf(hash)).length).toBe(2);
      // Superseded bodies go to garbage collection; the two current ones stay.
      await t.dataSource.query("UPDATE blob_garbage SET since = now() - interval '1 day'");
      await sweep(t);
      const keys = (await storedBlobKeys(t, team.id)).filter((key) => key.includes(hash));
      expect(keys).toHaveLength(2);
    });

    it('refuses a read-only untrusted token with 403, writing nothing', async () => {
      const hash = randomHash();
      await putArtifact(t.server, tokens.prARo.token, hash, randomBytes(10)).expect(403);
      expect(await rowsOf(hash)).toEqual([]);
    });

    it('answers the status route for an untrusted token like any other', async () => {
      const res = await request(t.server)
        .get('/v8/artifacts/status')
        .set(bearer(tokens.prA.token))
        .expect(200);
      expect(res.body).toEqual({ status: 'enabled' });
    });
  });

  describe('the Nx routes', () => {
    it('keep an untrusted PUT in its overlay: trusted readers miss it, the same scope hits it', async () => {
      const hash = randomNxHash();
      const body = nxBody(400);
      expect((await nxPut(t.server, hash, body, tokens.prA.token)).status).toBe(200);
      expect((await rowsOf(nxStoredHash(hash))).map((row) => row.overlay_scope)).toEqual(['pr-a']);
      expect((await nxGet(t.server, hash, tokens.main.token)).status).toBe(404);
      expect((await nxGet(t.server, hash, tokens.prB.token)).status).toBe(404);
      const own = await nxGet(t.server, hash, tokens.prARo.token);
      expect(own.status).toBe(200);
      expect(own.body).toEqual(body);
      // The trusted namespace has no entry: a trusted PUT stores one, which untrusted readers
      // then get instead of their own.
      const clean = nxBody(400);
      expect((await nxPut(t.server, hash, clean, tokens.main.token)).status).toBe(200);
      expect((await nxGet(t.server, hash, tokens.prA.token)).body).toEqual(clean);
    });

    it('answer an untrusted PUT of a hash it already sees (trusted) with 409, storing nothing', async () => {
      const hash = randomNxHash();
      expect((await nxPut(t.server, hash, nxBody(50), tokens.main.token)).status).toBe(200);
      expect((await nxPut(t.server, hash, nxBody(50), tokens.prA.token)).status).toBe(409);
      expect((await rowsOf(nxStoredHash(hash))).map((row) => row.overlay_scope)).toEqual(['']);
    });
  });

  describe('overlay lifecycle', () => {
    it("counts overlay entries in the team's stored bytes", async () => {
      const before = await request(t.server)
        .get('/admin/teams/acme/policy')
        .set(bearer(ADMIN_TOKEN))
        .expect(200);
      await putArtifact(t.server, tokens.prB.token, randomHash(), randomBytes(4_321)).expect(202);
      const after = await request(t.server)
        .get('/admin/teams/acme/policy')
        .set(bearer(ADMIN_TOKEN))
        .expect(200);
      expect(after.body.storedBytes - before.body.storedBytes).toBe(4_321);
    });

    it('expires overlay entries after the overlay retention (default 7 days), trusted ones after the team retention', async () => {
      const trusted = randomHash();
      const overlay = randomHash();
      await putArtifact(t.server, tokens.main.token, trusted, randomBytes(10)).expect(202);
      await putArtifact(t.server, tokens.prA.token, overlay, randomBytes(10)).expect(202);
      await ageArtifact(t, team.id, trusted, 8);
      await ageArtifact(t, team.id, overlay, 6);
      await sweep(t);
      expect((await rowsOf(trusted)).length).toBe(1);
      expect((await rowsOf(overlay)).length).toBe(1);
      await ageArtifact(t, team.id, overlay, 8);
      await sweep(t);
      expect(await rowsOf(overlay)).toEqual([]);
      expect((await rowsOf(trusted)).length).toBe(1);
      expect((await storedBlobKeys(t, team.id)).some((key) => key.includes(overlay))).toBe(false);
    });

    it('takes a team setting for the overlay retention, capped by the team retention', async () => {
      const res = await request(t.server)
        .patch('/admin/teams/acme/tier-settings')
        .set(bearer(ADMIN_TOKEN))
        .send({ overlayRetentionDays: 2 })
        .expect(200);
      expect(res.body).toMatchObject({
        overlayRetentionDays: 2,
        overlayRetentionSetting: 2,
        overlayRetentionSource: 'team',
      });
      const overlay = randomHash();
      await putArtifact(t.server, tokens.prA.token, overlay, randomBytes(10)).expect(202);
      await ageArtifact(t, team.id, overlay, 3);
      await sweep(t);
      expect(await rowsOf(overlay)).toEqual([]);
      await request(t.server)
        .patch('/admin/teams/acme/policy')
        .set(bearer(ADMIN_TOKEN))
        .send({ retentionDays: 1 })
        .expect(200);
      const capped = await request(t.server)
        .patch('/admin/teams/acme/tier-settings')
        .set(bearer(ADMIN_TOKEN))
        .send({ overlayRetentionDays: 'default' })
        .expect(200);
      expect(capped.body).toMatchObject({
        overlayRetentionDays: 1,
        overlayRetentionSetting: 7,
        overlayRetentionSource: 'default',
      });
      await request(t.server)
        .patch('/admin/teams/acme/policy')
        .set(bearer(ADMIN_TOKEN))
        .send({ retentionDays: 'default' })
        .expect(200);
    });

    it('refuses bad tier settings with 400, changing nothing', async () => {
      for (const body of [
        { overlayRetentionDays: 0 },
        { trustedEntries: 'sometimes' },
        {},
        { unknown: 1 },
      ]) {
        const res = await request(t.server)
          .patch('/admin/teams/acme/tier-settings')
          .set(bearer(ADMIN_TOKEN))
          .send(body)
          .expect(400);
        expect(res.body).toMatchObject({ code: 'bad_request' });
      }
      const now = await request(t.server)
        .get('/admin/teams/acme/tier-settings')
        .set(bearer(ADMIN_TOKEN))
        .expect(200);
      expect(now.body).toMatchObject({ trustedEntries: 'replaceable', overlayRetentionDays: 7 });
    });
  });

  describe('immutable trusted entries', () => {
    let strict: Team;
    let first: string;
    let second: string;

    beforeAll(async () => {
      strict = await createTeam(t, 'strict');
      await request(t.server)
        .patch('/admin/teams/strict/tier-settings')
        .set(bearer(ADMIN_TOKEN))
        .send({ trustedEntries: 'immutable' })
        .expect(200);
      first = (await issueToken(t, strict, { name: 'main' })).token;
      second = (await issueToken(t, strict, { name: 'other-main' })).token;
    });

    const discarded = async () =>
      metricValue(await scrapeMetrics(t.server), 'teamcache_trusted_uploads_discarded_total', {
        team: 'strict',
      });

    it('keeps the first trusted write: a later one is answered 202, dropped and counted', async () => {
      const hash = randomHash();
      const original = randomBytes(2_000);
      const before = await discarded();
      await putArtifact(t.server, first, hash, original).expect(202);
      await putArtifact(t.server, second, hash, randomBytes(2_000)).expect(202);
      await putArtifact(t.server, first, hash, randomBytes(1_000)).expect(202);
      expect((await getArtifact(t.server, second, hash).expect(200)).body).toEqual(original);
      expect(await discarded()).toBe(before + 2);
      const keys = (await storedBlobKeys(t, strict.id)).filter((key) => key.includes(hash));
      expect(keys).toHaveLength(1);
    });

    it('keeps exactly one of concurrent first trusted writes, whole', async () => {
      const hash = randomHash();
      const bodies = Array.from({ length: 6 }, () => randomBytes(30_000));
      await Promise.all(
        bodies.map((body, i) =>
          putArtifact(t.server, i % 2 ? first : second, hash, body).expect(202),
        ),
      );
      const got = (await getArtifact(t.server, first, hash).expect(200)).body as Buffer;
      expect(bodies.some((body) => body.equals(got))).toBe(true);
      const keys = (await storedBlobKeys(t, strict.id)).filter((key) => key.includes(hash));
      expect(keys).toHaveLength(1);
    });

    it('still takes untrusted writes into their overlays', async () => {
      const pr = await issueToken(t, strict, { tier: TrustTier.Untrusted });
      const hash = randomHash();
      const body = randomBytes(100);
      await putArtifact(t.server, pr.token, hash, body).expect(202);
      await putArtifact(t.server, pr.token, hash, randomBytes(100)).expect(202);
      const [row] = await t.dataSource.query(
        'SELECT overlay_scope FROM artifacts WHERE team_id = $1 AND hash = $2',
        [strict.id, hash],
      );
      expect(row.overlay_scope).toBe(`token-${pr.id}`);
      expect((await getArtifact(t.server, pr.token, hash).expect(200)).body).not.toEqual(body);
    });
  });

  describe('issuing tiered tokens', () => {
    it('issues untrusted tokens with a scope of their own by default, and lists tiers (trusted views unchanged)', async () => {
      const issued = await request(t.server)
        .post('/admin/teams/acme/tokens')
        .set(bearer(ADMIN_TOKEN))
        .send({ name: 'laptop', tier: 'untrusted' })
        .expect(201);
      expect(issued.body).toMatchObject({
        tier: 'untrusted',
        overlayScope: `token-${issued.body.id}`,
        scope: 'read-write',
      });
      const list = await request(t.server)
        .get('/admin/teams/acme/tokens')
        .set(bearer(ADMIN_TOKEN))
        .expect(200);
      const byName = Object.fromEntries(
        (list.body as { name: string; tier: string; overlayScope: string | null }[]).map((v) => [
          v.name,
          [v.tier, v.overlayScope],
        ]),
      );
      expect(byName).toMatchObject({
        main: [undefined, undefined],
        'pr-a': ['untrusted', 'pr-a'],
        laptop: ['untrusted', `token-${issued.body.id}`],
      });
    });

    it.each([
      [{ tier: 'half' }, 'tier must be'],
      [{ overlayScope: 'pr-1' }, 'untrusted tokens only'],
      [{ tier: 'untrusted', overlayScope: '../x' }, 'scope must be'],
      [{ tier: 'untrusted', overlayScope: 'x'.repeat(65) }, 'scope must be'],
      [{ tier: 'untrusted', overlayScope: 'trusted' }, 'reserved'],
      [{ tier: 'untrusted', overlayScope: 7 }, 'overlayScope must be a string'],
    ])('refuses %j with 400, issuing nothing', async (body, message) => {
      const count = async () =>
        Number(
          (
            await t.dataSource.query('SELECT count(*) AS n FROM tokens WHERE team_id = $1', [
              team.id,
            ])
          )[0].n,
        );
      const before = await count();
      const res = await request(t.server)
        .post('/admin/teams/acme/tokens')
        .set(bearer(ADMIN_TOKEN))
        .send(body)
        .expect(400);
      expect(res.body.message).toContain(message);
      expect(await count()).toBe(before);
    });
  });
});
