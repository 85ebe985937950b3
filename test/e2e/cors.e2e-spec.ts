import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { cloneRepo, createMonorepo, readOutputs, turboRun } from '../support/turbo-repo';

const list = (header: string | undefined) =>
  (header ?? '').split(',').map((value) => value.trim().toLowerCase());

/** The preflight turbo sends with TURBO_PREFLIGHT=true: no Authorization header. */
function preflight(t: TestApp, path: string, origin = 'https://ci.example.com') {
  return request(t.server)
    .options(path)
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'PUT')
    .set('Access-Control-Request-Headers', 'authorization, content-type, x-artifact-duration');
}

describe('CORS with the default CORS_ORIGINS=*', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it.each(['/v8/artifacts/abc123', '/v8/artifacts', '/v8/artifacts/status', '/artifacts/abc123'])(
    'answers the preflight of %s without a token: methods, headers, no Location',
    async (path) => {
      const res = await preflight(t, path).expect(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(list(res.headers['access-control-allow-methods'])).toEqual(
        expect.arrayContaining(['get', 'head', 'put', 'post', 'options']),
      );
      expect(list(res.headers['access-control-allow-headers'])).toEqual(
        expect.arrayContaining([
          'authorization',
          'content-type',
          'x-artifact-duration',
          'x-artifact-tag',
          'x-artifact-sha',
          'x-artifact-dirty-hash',
          'x-artifact-client-ci',
          'x-artifact-client-interactive',
        ]),
      );
      expect(res.headers.location).toBeUndefined();
    },
  );

  it('answers the preflight of a TURBO_API with a trailing slash (//v8/...)', async () => {
    const res = await preflight(t, '//v8/artifacts/abc123').expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('exposes the artifact headers and Content-Length on a download', async () => {
    const { token } = await issueToken(t, await createTeam(t, 'browser'));
    const hash = randomHash();
    await putArtifact(t.server, token, hash, randomBytes(64), { 'x-artifact-tag': 'dGFn' });
    const res = await getArtifact(t.server, token, hash)
      .set('Origin', 'https://dash.example.com')
      .expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(list(res.headers['access-control-expose-headers'])).toEqual(
      expect.arrayContaining([
        'content-length',
        'x-artifact-duration',
        'x-artifact-tag',
        'x-artifact-sha',
        'x-artifact-dirty-hash',
      ]),
    );
  });

  it('leaves the admin API and /metrics without CORS', async () => {
    for (const path of ['/admin/teams', '/metrics']) {
      const res = await preflight(t, path);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('CORS with CORS_ORIGINS set', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      CORS_ORIGINS: 'https://ci.example.com, https://dash.example.com',
    });
  });
  afterAll(() => t.close());

  it('echoes a configured origin', async () => {
    const res = await preflight(t, '/v8/artifacts/abc123', 'https://dash.example.com').expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://dash.example.com');
    expect(list(res.headers.vary)).toContain('origin');
    expect(list(res.headers['access-control-allow-headers'])).toContain('authorization');
  });

  it('does not allow another origin', async () => {
    const res = await preflight(t, '/v8/artifacts/abc123', 'https://evil.example.com');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.location).toBeUndefined();
  });
});

describe('turbo run with TURBO_PREFLIGHT=true', () => {
  jest.setTimeout(180_000);
  let t: TestApp;
  const dirs: string[] = [];
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await t.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps its token through the preflight: uploads, then a fresh clone hits', async () => {
    const { token } = await issueToken(t, await createTeam(t, 'preflight'));
    const env = {
      TURBO_API: `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`,
      TURBO_TOKEN: token,
      TURBO_TEAM: 'preflight',
      TURBO_PREFLIGHT: 'true',
    };
    const repo = createMonorepo(['alpha', 'beta']);
    dirs.push(repo);
    const first = await turboRun(repo, env);
    expect(first.status).toBe(0);
    const clone = cloneRepo(repo);
    dirs.push(clone);
    const second = await turboRun(clone, env);
    expect(second.status).toBe(0);
    expect(second.output).toMatch(/Cached:\s+2 cached, 2 total/);
    expect(readOutputs(clone, ['alpha', 'beta'])).toEqual(readOutputs(repo, ['alpha', 'beta']));
  });
});
