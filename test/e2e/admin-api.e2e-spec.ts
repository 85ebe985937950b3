import request from 'supertest';
import { CacheAuthProbeModule } from '../support/cache-auth-probe';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('admin API with ADMIN_TOKEN set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN }, { extraImports: [CacheAuthProbeModule] });
  });
  afterAll(() => t.close());

  const admin = {
    get: (path: string) => request(t.server).get(path).set(bearer(ADMIN_TOKEN)),
    post: (path: string, body?: object) => {
      const req = request(t.server).post(path).set(bearer(ADMIN_TOKEN));
      return body === undefined ? req : req.send(body);
    },
    delete: (path: string) => request(t.server).delete(path).set(bearer(ADMIN_TOKEN)),
  };
  const teamRow = async (slug: string) =>
    (await t.dataSource.query('SELECT * FROM teams WHERE slug = $1', [slug]))[0];

  describe('authentication', () => {
    it.each([
      ['no Authorization header', {}],
      ['a wrong token', bearer('x'.repeat(40))],
      ['the admin token with one character less', bearer(ADMIN_TOKEN.slice(0, -1))],
      ['the admin token under another scheme', { Authorization: `Basic ${ADMIN_TOKEN}` }],
    ])('answers 401 unauthorized to %s', async (_case, headers) => {
      const res = await request(t.server).get('/admin/teams').set(headers);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'unauthorized', error: { code: 'unauthorized' } });
    });

    it('answers 401 to a cache token (it is not an admin token)', async () => {
      const team = await createTeam(t, 'cache-token-owner');
      const { token } = await issueToken(t, team);
      await request(t.server).get('/admin/teams').set(bearer(token)).expect(401);
    });

    it('checks the token before the body (401, not 400)', async () => {
      await request(t.server).post('/admin/teams').send({ slug: 'BAD' }).expect(401);
    });
  });

  describe('POST /admin/teams', () => {
    it('creates a team (201) and stores it', async () => {
      const res = await admin.post('/admin/teams', { slug: 'acme', name: 'Acme Inc' }).expect(201);
      expect(res.body).toEqual({
        id: expect.stringMatching(/^team_[A-Za-z0-9]{24}$/),
        slug: 'acme',
        name: 'Acme Inc',
        status: 'enabled',
        keyVersion: 1,
        createdAt: expect.stringMatching(ISO_DATE),
      });
      expect(await teamRow('acme')).toMatchObject({ id: res.body.id, name: 'Acme Inc' });
    });

    it('names the team after its slug by default', async () => {
      const res = await admin.post('/admin/teams', { slug: 'plain' }).expect(201);
      expect(res.body.name).toBe('plain');
    });

    it('answers 409 conflict to a duplicate slug, leaving the first team alone', async () => {
      const before = await teamRow('acme');
      const res = await admin.post('/admin/teams', { slug: 'acme', name: 'Impostor' });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ code: 'conflict', error: { code: 'conflict' } });
      expect(res.body.message).toContain('acme');
      expect(await teamRow('acme')).toEqual(before);
    });

    it.each([
      ['no body', undefined],
      ['no slug', { name: 'x' }],
      ['an upper-case slug', { slug: 'Acme' }],
      ['a slug with a space', { slug: 'a b' }],
      ['a slug with an underscore', { slug: 'team_x' }],
      ['a 49-character slug', { slug: 'a'.repeat(49) }],
      ['a number as slug', { slug: 42 }],
      ['an empty name', { slug: 'okay', name: '' }],
      ['a name over 100 characters', { slug: 'okay', name: 'n'.repeat(101) }],
      ['an unknown field', { slug: 'okay', admin: true }],
    ])('answers 400 bad_request to %s', async (_case, body) => {
      const res = await admin.post('/admin/teams', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'bad_request', error: { code: 'bad_request' } });
      expect(await teamRow('okay')).toBeUndefined();
    });

    it('answers 400 to a body that is not JSON', async () => {
      const res = await admin
        .post('/admin/teams')
        .set('Content-Type', 'application/json')
        .send('{"slug":');
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('bad_request');
    });
  });

  describe('GET /admin/teams and /admin/teams/:team', () => {
    it('lists every team', async () => {
      const res = await admin.get('/admin/teams').expect(200);
      expect(res.body.map((team: { slug: string }) => team.slug)).toEqual(
        expect.arrayContaining(['acme', 'plain']),
      );
    });

    it('finds a team by slug and by id', async () => {
      const bySlug = await admin.get('/admin/teams/acme').expect(200);
      const byId = await admin.get(`/admin/teams/${bySlug.body.id}`).expect(200);
      expect(byId.body).toEqual(bySlug.body);
    });

    it('answers 404 not_found for an unknown team', async () => {
      const res = await admin.get('/admin/teams/nobody').expect(404);
      expect(res.body.code).toBe('not_found');
      await admin.get('/admin/teams/team_doesNotExist0000000000').expect(404);
    });

    it('answers 400 for something that is neither a slug nor a team id', async () => {
      await admin.get('/admin/teams/NOT%20A%20SLUG').expect(400);
    });
  });

  describe('pause, resume, rotate-key', () => {
    it('pauses and resumes a team (200 with the team)', async () => {
      const paused = await admin.post('/admin/teams/acme/pause').expect(200);
      expect(paused.body.status).toBe('paused');
      expect((await teamRow('acme')).status).toBe('paused');
      const resumed = await admin.post('/admin/teams/acme/resume').expect(200);
      expect(resumed.body.status).toBe('enabled');
      expect((await teamRow('acme')).status).toBe('enabled');
    });

    it('rotates the key version', async () => {
      const before = (await teamRow('plain')).key_version;
      const res = await admin.post('/admin/teams/plain/rotate-key').expect(200);
      expect(res.body.keyVersion).toBe(before + 1);
      expect((await teamRow('plain')).key_version).toBe(before + 1);
    });

    it('answers 404 for an unknown team', async () => {
      for (const action of ['pause', 'resume', 'rotate-key']) {
        await admin.post(`/admin/teams/nobody/${action}`).expect(404);
      }
    });
  });

  describe('POST /admin/teams/:team/tokens', () => {
    it('issues a read-write token without expiry (201) that the cache accepts', async () => {
      const res = await admin.post('/admin/teams/acme/tokens', { name: 'ci' }).expect(201);
      const team = await teamRow('acme');
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        team: team.id,
        scope: 'read-write',
        expiresAt: null,
      });
      const probe = await request(t.server)
        .get('/probe/read?slug=acme')
        .set(bearer(res.body.token));
      expect(probe.status).toBe(200);
      expect(probe.body).toMatchObject({ tokenId: res.body.id, teamSlug: 'acme' });
      const [row] = await t.dataSource.query('SELECT * FROM tokens WHERE id = $1', [res.body.id]);
      expect(row).toMatchObject({
        team_id: team.id,
        name: 'ci',
        scope: 'read-write',
        revoked_at: null,
      });
    });

    it('issues a read-only token with an expiry', async () => {
      const before = Date.now();
      const res = await admin
        .post('/admin/teams/acme/tokens', { readOnly: true, expiresIn: '90d' })
        .expect(201);
      expect(res.body.scope).toBe('read-only');
      const expiresAt = Date.parse(res.body.expiresAt);
      const ninetyDays = 90 * 86_400_000;
      expect(expiresAt).toBeGreaterThanOrEqual(before + ninetyDays - 1_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + ninetyDays);
      const put = await request(t.server).put('/probe/write').set(bearer(res.body.token));
      expect(put.status).toBe(403);
    });

    it.each([
      ['a bad duration', { expiresIn: '90 days' }],
      ['a zero duration', { expiresIn: '0d' }],
      ['a numeric duration', { expiresIn: 3600 }],
      ['readOnly as a string', { readOnly: 'true' }],
      ['an unknown field', { scope: 'admin' }],
    ])('answers 400 to %s, issuing nothing', async (_case, body) => {
      const count = async () =>
        (await t.dataSource.query('SELECT count(*)::int AS n FROM tokens'))[0].n;
      const before = await count();
      const res = await admin.post('/admin/teams/acme/tokens', body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('bad_request');
      expect(await count()).toBe(before);
    });

    it('answers 404 for an unknown team', async () => {
      const res = await admin.post('/admin/teams/nobody/tokens', {}).expect(404);
      expect(res.body.code).toBe('not_found');
    });
  });

  describe('GET /admin/teams/:team/tokens and DELETE /admin/tokens/:tokenId', () => {
    it('lists the tokens of a team without their secrets', async () => {
      const issued = await admin.post('/admin/teams/plain/tokens', { name: 'laptop' }).expect(201);
      const res = await admin.get('/admin/teams/plain/tokens').expect(200);
      expect(res.body).toEqual([
        {
          id: issued.body.id,
          team: issued.body.team,
          name: 'laptop',
          scope: 'read-write',
          createdAt: expect.stringMatching(ISO_DATE),
          expiresAt: null,
          lastUsedAt: null,
          revokedAt: null,
        },
      ]);
      expect(JSON.stringify(res.body)).not.toContain(issued.body.token.split('.')[2]);
    });

    it('revokes a token (200, idempotent) and the cache refuses it', async () => {
      const issued = await admin.post('/admin/teams/plain/tokens', {}).expect(201);
      await request(t.server).get('/probe/read').set(bearer(issued.body.token)).expect(200);
      const revoked = await admin.delete(`/admin/tokens/${issued.body.id}`).expect(200);
      expect(revoked.body.revokedAt).toMatch(ISO_DATE);
      const again = await admin.delete(`/admin/tokens/${issued.body.id}`).expect(200);
      expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
      const deadline = Date.now() + 5_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await request(t.server).get('/probe/read').set(bearer(issued.body.token))).status;
        if (status === 200) await sleep(100);
      }
      expect(status).toBe(401);
    });

    it('answers 404 for an unknown token and 400 for a malformed id', async () => {
      await admin.delete('/admin/tokens/8d0c6a5e-3d4f-4b7a-9a51-2f9cc0c8e2aa').expect(404);
      await admin.delete('/admin/tokens/not-a-uuid').expect(400);
    });

    it('answers 404 when listing the tokens of an unknown team', async () => {
      await admin.get('/admin/teams/nobody/tokens').expect(404);
    });
  });
});

describe('admin API without ADMIN_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it.each([
    ['GET', '/admin/teams'],
    ['POST', '/admin/teams'],
    ['GET', '/admin/teams/acme'],
    ['POST', '/admin/teams/acme/tokens'],
    ['DELETE', '/admin/tokens/8d0c6a5e-3d4f-4b7a-9a51-2f9cc0c8e2aa'],
  ])('answers %s %s with 404 not_found, whatever the token', async (method, path) => {
    const agent = request(t.server);
    const send = { GET: agent.get, POST: agent.post, DELETE: agent.delete }[method]!;
    const res = await send.call(agent, path).set(bearer(ADMIN_TOKEN)).send({ slug: 'acme' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found', error: { code: 'not_found' } });
    const teams = await t.dataSource.query('SELECT count(*)::int AS n FROM teams');
    expect(teams[0].n).toBe(0);
  });
});
