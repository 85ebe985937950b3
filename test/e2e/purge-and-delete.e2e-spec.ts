import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { ageArtifact, blobExists, postEvents, storedHashes, turboEvent } from '../support/usage';
import { eventually } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';

describe('purge and team deletion (admin API)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' });
  });
  afterAll(() => t.close());

  const admin = (method: 'post' | 'delete' | 'get' | 'patch', path: string) =>
    request(t.server)[method](path).set(bearer(ADMIN_TOKEN));

  async function seed(slug: string, count: number) {
    const team = await createTeam(t, slug);
    const { token } = await issueToken(t, team);
    const hashes: string[] = [];
    for (let i = 0; i < count; i++) {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(100)).expect(202);
      hashes.push(hash);
    }
    return { team, token, hashes };
  }

  describe('POST /admin/teams/:team/purge', () => {
    it('removes artifacts uploaded before olderThan, rows and blobs', async () => {
      const { team, token, hashes } = await seed('purge-old', 3);
      await ageArtifact(t, team.id, hashes[0], 10, { uploaded: true });

      const res = await admin('post', '/admin/teams/purge-old/purge')
        .send({ olderThan: '7d' })
        .expect(200);

      expect(res.body).toMatchObject({
        team: team.id,
        slug: 'purge-old',
        artifacts: 1,
        bytes: 100,
        blobFailures: 0,
      });
      expect(await storedHashes(t, team.id)).toEqual([...hashes.slice(1)].sort());
      expect(await blobExists(t, team.id, hashes[0])).toBe(false);
      await getArtifact(t.server, token, hashes[0]).expect(404);
      await getArtifact(t.server, token, hashes[1]).expect(200);
    });

    it('removes every artifact of the team without olderThan, and only of that team', async () => {
      const { team, hashes } = await seed('purge-all', 3);
      const other = await seed('purge-bystander', 1);

      const res = await admin('post', '/admin/teams/purge-all/purge').expect(200);

      expect(res.body).toMatchObject({ artifacts: 3, bytes: 300 });
      expect(await storedHashes(t, team.id)).toEqual([]);
      for (const hash of hashes) expect(await blobExists(t, team.id, hash)).toBe(false);
      expect(await storedHashes(t, other.team.id)).toEqual(other.hashes);
      expect(await blobExists(t, other.team.id, other.hashes[0])).toBe(true);
    });

    it.each([
      [{ olderThan: '7 days' }, /invalid duration "7 days"/],
      [{ olderThan: 7 }, /olderThan must be a duration/],
      [{ everything: true }, /property everything should not exist/],
    ])('refuses %j with 400 and deletes nothing', async (body, message) => {
      const { team, hashes } = await seed(`purge-bad-${randomHash().slice(0, 8)}`, 1);
      const res = await admin('post', `/admin/teams/${team.slug}/purge`).send(body).expect(400);
      expect(res.body.message).toMatch(message);
      expect(await storedHashes(t, team.id)).toEqual(hashes);
    });

    it('answers 404 for an unknown team', async () => {
      await admin('post', '/admin/teams/nobody/purge').expect(404);
    });
  });

  describe('DELETE /admin/teams/:team', () => {
    it('deletes the team, its tokens, artifacts, events and blobs; its tokens stop within 5 s', async () => {
      const { team, token, hashes } = await seed('doomed', 2);
      await postEvents(t.server, token, [turboEvent('REMOTE', 'HIT', hashes[0], 50)]).expect(200);
      const survivor = await seed('survivor', 1);

      const res = await admin('delete', '/admin/teams/doomed').expect(200);

      expect(res.body).toEqual({
        team: team.id,
        slug: 'doomed',
        artifacts: 2,
        bytes: 200,
        blobFailures: 0,
        tokens: 1,
        events: 1,
      });
      for (const table of ['artifacts', 'tokens', 'usage_events']) {
        const [{ count }] = await t.dataSource.query(
          `SELECT count(*)::int AS count FROM ${table} WHERE team_id = $1`,
          [team.id],
        );
        expect({ table, count }).toEqual({ table, count: 0 });
      }
      for (const hash of hashes) expect(await blobExists(t, team.id, hash)).toBe(false);
      await admin('get', '/admin/teams/doomed').expect(404);
      const elapsed = await eventually(async () => {
        await getArtifact(t.server, token, hashes[0]).expect(401);
      }, 5_000);
      expect(elapsed).toBeLessThan(5_000);
      // Nothing of the other team moved.
      await getArtifact(t.server, survivor.token, survivor.hashes[0]).expect(200);
    });

    it('answers 404 for an unknown team and 401 without the admin token', async () => {
      await admin('delete', '/admin/teams/never-was').expect(404);
      await request(t.server).delete('/admin/teams/survivor').expect(401);
    });
  });

  describe('GET/PATCH /admin/teams/:team/policy', () => {
    it('shows the defaults, takes overrides, and goes back to the defaults', async () => {
      await seed('policy', 1);
      const initial = await admin('get', '/admin/teams/policy/policy').expect(200);
      expect(initial.body).toEqual({
        team: expect.stringMatching(/^team_/),
        slug: 'policy',
        retentionDays: 30,
        retentionSource: 'default',
        quotaBytes: null,
        quotaSource: 'default',
        quotaMode: 'evict',
        artifacts: 1,
        storedBytes: 100,
      });

      const changed = await admin('patch', '/admin/teams/policy/policy')
        .send({ retentionDays: 14, quota: '10GiB' })
        .expect(200);
      expect(changed.body).toMatchObject({
        retentionDays: 14,
        retentionSource: 'team',
        quotaBytes: 10 * 1024 ** 3,
        quotaSource: 'team',
      });

      const reset = await admin('patch', '/admin/teams/policy/policy')
        .send({ retentionDays: 'default', quota: 'default' })
        .expect(200);
      expect(reset.body).toMatchObject({ retentionDays: 30, retentionSource: 'default' });
      expect(reset.body).toMatchObject({ quotaBytes: null, quotaSource: 'default' });
    });

    it.each([
      [{}, /give retentionDays and\/or quota/],
      [{ retentionDays: 0 }, /retention days must be a whole number from 1 to 36500/],
      [{ retentionDays: 1.5 }, /retention days/],
      [{ quota: '10 parsecs' }, /invalid size "10 parsecs"/],
      [{ quota: -5 }, /quota must be a size/],
      [{ quota: true }, /quota must be a size/],
      [{ ttl: 3 }, /property ttl should not exist/],
    ])('refuses %j with 400 and changes nothing', async (body, message) => {
      const res = await admin('patch', '/admin/teams/policy/policy').send(body).expect(400);
      expect(res.body).toMatchObject({
        code: 'bad_request',
        message: expect.stringMatching(message),
      });
      const policy = await admin('get', '/admin/teams/policy/policy').expect(200);
      expect(policy.body).toMatchObject({ retentionSource: 'default', quotaSource: 'default' });
    });
  });
});
