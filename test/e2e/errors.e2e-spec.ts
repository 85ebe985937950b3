import { Controller, Get, Module } from '@nestjs/common';
import request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';

@Controller('probe')
class FailingController {
  @Get('crash')
  crash(): never {
    throw new Error('secret internals at /srv/app/src/x.ts:42');
  }
}

@Module({ controllers: [FailingController] })
class FailingModule {}

describe('the error shape', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({}, { extraImports: [FailingModule] })));
  afterAll(() => t.close());

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await request(t.server).get('/no/such/route').expect(404);
    expect(res.body).toEqual({
      code: 'not_found',
      message: 'no route for GET /no/such/route',
      error: { code: 'not_found', message: 'no route for GET /no/such/route' },
    });
  });

  it('answers an unexpected error with 500 and no internals', async () => {
    const res = await request(t.server).get('/probe/crash').expect(500);
    expect(res.body).toEqual({
      code: 'internal_error',
      message: 'internal server error',
      error: { code: 'internal_error', message: 'internal server error' },
    });
    expect(res.text).not.toContain('secret');
    expect(res.text).not.toContain('.ts');
  });

  it('answers a JSON body over the limit with 413 in the error shape', async () => {
    const res = await request(t.server)
      .post('/v8/artifacts')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ hashes: ['a'.repeat(2 * 1024 * 1024)] }))
      .expect(413);
    expect(res.body).toMatchObject({
      code: 'payload_too_large',
      error: { code: 'payload_too_large' },
    });
  });

  it('keeps serving after errors', async () => {
    await request(t.server).get('/probe/crash').expect(500);
    await request(t.server).get('/healthz').expect(200);
  });
});
