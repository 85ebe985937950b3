import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { metricValue, parseMetrics, scrapeMetrics } from '../support/metrics';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const ARTIFACT_ROUTE = '/v8/artifacts/:hash';

describe('GET /metrics', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp();
    token = (await issueToken(t, await createTeam(t, 'metrics-team'))).token;
  });
  afterAll(() => t.close());

  it('serves the Prometheus text format with the default process metrics, without a token', async () => {
    const res = await request(t.server).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const names = new Set(parseMetrics(res.text).map((s) => s.name));
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('nodejs_heap_size_used_bytes');
    expect(names).toContain('teamcache_storage_errors_total');
  });

  it('counts the bytes, hits and misses of a PUT and GETs of the team exactly', async () => {
    const team = { team: 'metrics-team' };
    const before = await scrapeMetrics(t.server);
    const body = randomBytes(12_345);
    const hash = randomHash();
    await putArtifact(t.server, token, hash, body).expect(202);
    const hit = await getArtifact(t.server, token, hash).expect(200);
    expect(hit.body.length).toBe(body.length);
    await getArtifact(t.server, token, randomHash()).expect(404);
    await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token)).expect(200);

    // A download is counted once the server has sent its last byte, which may be just after
    // the client read it.
    await eventually(async () => {
      const after = await scrapeMetrics(t.server);
      const delta = (name: string, labels: Record<string, string>) =>
        metricValue(after, name, labels) - metricValue(before, name, labels);
      expect(delta('teamcache_artifact_uploaded_bytes_total', team)).toBe(12_345);
      expect(delta('teamcache_artifact_downloaded_bytes_total', team)).toBe(12_345);
      expect(delta('teamcache_cache_lookups_total', { ...team, result: 'hit' })).toBe(1);
      expect(delta('teamcache_cache_lookups_total', { ...team, result: 'miss' })).toBe(1);
    });
  });

  it('counts and times requests by method, route pattern and status, never by URL', async () => {
    const before = await scrapeMetrics(t.server);
    const hash = randomHash();
    await putArtifact(t.server, token, hash, randomBytes(10)).expect(202);
    await getArtifact(t.server, token, hash).expect(200);
    await getArtifact(t.server, token, randomHash()).expect(404);
    await request(t.server).get(`/no/such/${hash}`).expect(404);

    await eventually(async () => {
      const after = await scrapeMetrics(t.server);
      const delta = (name: string, labels: Record<string, string>) =>
        metricValue(after, name, labels) - metricValue(before, name, labels);
      const requests = 'teamcache_http_requests_total';
      expect(delta(requests, { method: 'PUT', route: ARTIFACT_ROUTE, status: '202' })).toBe(1);
      expect(delta(requests, { method: 'GET', route: ARTIFACT_ROUTE, status: '200' })).toBe(1);
      expect(delta(requests, { method: 'GET', route: ARTIFACT_ROUTE, status: '404' })).toBe(1);
      expect(delta(requests, { method: 'GET', route: '(unmatched)', status: '404' })).toBe(1);
      const durations = 'teamcache_http_request_duration_seconds_count';
      expect(delta(durations, { method: 'PUT', route: ARTIFACT_ROUTE, status: '202' })).toBe(1);
      const labelValues = after.flatMap((s) => Object.values(s.labels));
      expect(labelValues.some((v) => v.includes(hash))).toBe(false);
    });
  });

  it('does not count its own scrapes', async () => {
    await scrapeMetrics(t.server);
    const samples = await scrapeMetrics(t.server);
    expect(samples.filter((s) => s.labels.route === '/metrics')).toEqual([]);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const METRICS_TOKEN = 'metrics-token-0123456789abcdef-0123456789';
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ METRICS_TOKEN })));
  afterAll(() => t.close());

  it.each([
    ['no Authorization header', {}],
    ['a wrong token', bearer('m'.repeat(40))],
    ['the token with one character less', bearer(METRICS_TOKEN.slice(0, -1))],
  ])('answers 401 unauthorized to %s', async (_case, headers) => {
    const res = await request(t.server).get('/metrics').set(headers).expect(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', error: { code: 'unauthorized' } });
  });

  it('answers the token', async () => {
    const samples = await scrapeMetrics(t.server, METRICS_TOKEN);
    expect(samples.length).toBeGreaterThan(0);
  });

  it('is never rate limited, not even after many failed scrapes', async () => {
    for (let i = 0; i < 40; i += 1) {
      await request(t.server)
        .get('/metrics')
        .set(bearer('x'.repeat(40)))
        .expect(401);
    }
    for (let i = 0; i < 40; i += 1) await scrapeMetrics(t.server, METRICS_TOKEN);
  });
});

describe('teamcache_storage_errors_total', () => {
  let t: TestApp;
  let s3: TestS3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
    t = await createTestApp(s3.env);
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('counts requests answered 503 because the storage is down', async () => {
    const { token } = await issueToken(t, await createTeam(t, 'outage'));
    const hash = randomHash();
    await putArtifact(t.server, token, hash, randomBytes(100)).expect(202);
    const before = metricValue(await scrapeMetrics(t.server), 'teamcache_storage_errors_total');
    await s3.stop();
    try {
      await getArtifact(t.server, token, hash).expect(503);
      await putArtifact(t.server, token, randomHash(), randomBytes(100)).expect(503);
    } finally {
      await s3.restart();
    }
    const after = metricValue(await scrapeMetrics(t.server), 'teamcache_storage_errors_total');
    expect(after - before).toBe(2);
  });
});
