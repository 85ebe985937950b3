import request from 'supertest';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const tooMany = { code: 'too_many_requests', error: { code: 'too_many_requests' } };
const BAD_TOKEN = bearer('eyJhbGciOiJIUzI1NiJ9.eyJ0ZWFtIjoidGVhbV94In0.c2lnbmF0dXJl');

/** A request from `ip` (the app trusts X-Forwarded-For from loopback, like a load balancer). */
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

function expectRetryAfter(header: string | undefined, max: number) {
  const seconds = Number(header);
  expect(Number.isInteger(seconds)).toBe(true);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(max);
}

describe('auth failures per client IP (RATE_LIMIT_AUTH_FAILURES=5)', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_AUTH_FAILURES: '5',
      TRUST_PROXY: 'loopback',
      ADMIN_TOKEN,
    });
    token = (await issueToken(t, await createTeam(t, 'limited'))).token;
  });
  afterAll(() => t.close());

  const status = (ip: string, auth: Record<string, string> = BAD_TOKEN) =>
    request(t.server).get('/v8/artifacts/status').set(from(ip)).set(auth);

  it('answers 429 in the error shape with Retry-After after 5 bad tokens from one address', async () => {
    for (let i = 0; i < 5; i += 1) await status('203.0.113.7').expect(401);
    const res = await status('203.0.113.7').expect(429);
    expect(res.body).toMatchObject(tooMany);
    expect(res.body.message).toMatch(/failed authentications/);
    expectRetryAfter(res.headers['retry-after'], 60);
  });

  it('refuses the blocked address before looking at its token, even a valid one', async () => {
    await status('203.0.113.7', bearer(token)).expect(429);
    await status('203.0.113.7', {}).expect(429);
  });

  it('refuses the blocked address on artifact GETs too, with a token verified moments ago', async () => {
    const artifact = (ip: string) =>
      request(t.server).get('/v8/artifacts/00aa11bb').set(from(ip)).set(bearer(token));
    // Verified just now from another address: the fast path would take it if it ignored blocks.
    await artifact('198.51.100.9').expect(404);
    const res = await artifact('203.0.113.7').expect(429);
    expect(res.body).toMatchObject(tooMany);
  });

  it('keeps serving valid tokens from other addresses', async () => {
    const res = await status('198.51.100.9', bearer(token)).expect(200);
    expect(res.body).toEqual({ status: 'enabled' });
  });

  it('counts failed admin tokens too', async () => {
    const admin = (auth: Record<string, string>) =>
      request(t.server).get('/admin/teams').set(from('203.0.113.99')).set(auth);
    for (let i = 0; i < 5; i += 1) await admin(bearer('x'.repeat(40))).expect(401);
    const res = await admin(bearer(ADMIN_TOKEN)).expect(429);
    expect(res.body).toMatchObject(tooMany);
    expectRetryAfter(res.headers['retry-after'], 60);
  });

  it('never throttles valid cache traffic: a burst of 200 requests from one address', async () => {
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(t.server)
            .get(`/v8/artifacts/${'ab'.repeat(8)}`)
            .set(from('192.0.2.50'))
            .set(bearer(token)),
        ),
      );
      statuses.push(...answers.map((res) => res.status));
    }
    expect(statuses).toEqual(Array(200).fill(404));
    // A few failures from the same address still count (and stay below the limit).
    for (let i = 0; i < 4; i += 1) await status('192.0.2.50').expect(401);
    await status('192.0.2.50', bearer(token)).expect(200);
  });
});

describe('X-Forwarded-For without TRUST_PROXY', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ RATE_LIMIT_AUTH_FAILURES: '3' })));
  afterAll(() => t.close());

  it('is ignored: a client cannot dodge the limit by inventing addresses', async () => {
    for (let i = 0; i < 3; i += 1) {
      await request(t.server)
        .get('/v8/artifacts/status')
        .set(from(`203.0.113.${i}`))
        .set(BAD_TOKEN)
        .expect(401);
    }
    await request(t.server)
      .get('/v8/artifacts/status')
      .set(from('203.0.113.200'))
      .set(BAD_TOKEN)
      .expect(429);
  });
});

describe('RATE_LIMIT_AUTH_FAILURES=0', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ RATE_LIMIT_AUTH_FAILURES: '0' })));
  afterAll(() => t.close());

  it('turns the auth failure limit off', async () => {
    for (let i = 0; i < 40; i += 1) {
      await request(t.server).get('/v8/artifacts/status').set(BAD_TOKEN).expect(401);
    }
  });
});

describe('admin API calls per token (RATE_LIMIT_ADMIN=3)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ ADMIN_TOKEN, RATE_LIMIT_ADMIN: '3' })));
  afterAll(() => t.close());

  it('answers 429 with Retry-After after 3 calls a minute, across admin routes', async () => {
    await request(t.server).get('/admin/teams').set(bearer(ADMIN_TOKEN)).expect(200);
    await request(t.server)
      .post('/admin/teams')
      .set(bearer(ADMIN_TOKEN))
      .send({ slug: 'first' })
      .expect(201);
    await request(t.server).get('/admin/teams/first').set(bearer(ADMIN_TOKEN)).expect(200);
    const res = await request(t.server)
      .post('/admin/teams')
      .set(bearer(ADMIN_TOKEN))
      .send({ slug: 'fourth' })
      .expect(429);
    expect(res.body).toMatchObject(tooMany);
    expect(res.body.message).toMatch(/at most 3 admin API calls per minute/);
    expectRetryAfter(res.headers['retry-after'], 60);
    const rows = await t.dataSource.query("SELECT 1 FROM teams WHERE slug = 'fourth'");
    expect(rows).toEqual([]);
  });

  it('does not throttle the cache routes', async () => {
    const { token } = await issueToken(t, 'first');
    for (let i = 0; i < 10; i += 1) {
      await request(t.server).get('/v8/artifacts/status').set(bearer(token)).expect(200);
    }
  });
});
