import request from 'supertest';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { createTestApp, TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

describe('readiness follows S3', () => {
  let s3: TestS3Server;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3Server();
    t = await createTestApp(s3.env);
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('turns 503 when S3 stops and 200 again when it is back on the same port, without restart', async () => {
    const up = await request(t.server).get('/readyz').expect(200);
    expect(up.body.info.storage).toEqual({ status: 'up', driver: 's3' });

    await s3.stop();
    const down = await request(t.server).get('/readyz').expect(503);
    expect(down.body).toEqual({
      code: 'unavailable',
      message: expect.stringMatching(/^not ready: storage \(S3 at 127\.0\.0\.1:\d+ is unavailable/),
      error: { code: 'unavailable', message: down.body.message },
    });
    await request(t.server).get('/healthz').expect(200);

    await s3.restart();
    await expectEventually(async () => (await request(t.server).get('/readyz')).status === 200);
    const back = await request(t.server).get('/readyz').expect(200);
    expect(back.body.info.storage).toEqual({ status: 'up', driver: 's3' });
  });
});

async function expectEventually(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error('condition not met in time');
}
