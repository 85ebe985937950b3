import request from 'supertest';
import { startScratchPostgres } from '../support/postgres-server';
import { createTestApp, TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  describe('GET /healthz', () => {
    it('answers 200 while the process runs', async () => {
      const res = await request(t.server).get('/healthz').expect(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('echoes a sane x-request-id and makes one up otherwise', async () => {
      const given = await request(t.server).get('/healthz').set('x-request-id', 'abc-123');
      expect(given.headers['x-request-id']).toBe('abc-123');
      const made = await request(t.server)
        .get('/healthz')
        .set('x-request-id', 'bad id\twith spaces');
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('GET /readyz', () => {
    it('answers 200 when the database and storage answer', async () => {
      const res = await request(t.server).get('/readyz').expect(200);
      expect(res.body.status).toBe('ok');
      expect(res.body.info.database.status).toBe('up');
      expect(res.body.info.storage.status).toBe('up');
    });
  });
});

describe('readiness follows the database', () => {
  it('turns 503 when the database stops and 200 again when it is back, without restart', async () => {
    const pg = await startScratchPostgres();
    const t = await createTestApp({}, { adminUrl: pg.adminUrl });
    try {
      await request(t.server).get('/readyz').expect(200);
      await pg.cluster.stop();
      const down = await request(t.server).get('/readyz').expect(503);
      expect(down.body).toMatchObject({ code: 'unavailable', error: { code: 'unavailable' } });
      expect(down.body.message).toContain('database');
      await request(t.server).get('/healthz').expect(200);
      await pg.cluster.start(true);
      await expectEventually(async () => (await request(t.server).get('/readyz')).status === 200);
    } finally {
      await t.close();
      await pg.stop();
    }
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error('condition not met in time');
}
