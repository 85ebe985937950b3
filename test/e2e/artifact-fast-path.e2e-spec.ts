import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { ArtifactFastPath } from '../../src/artifacts/artifact-fast-path';
import { MetricsService } from '../../src/metrics/metrics.service';
import { CACHE_GATES, type CacheGate } from '../../src/auth/cache-gates';
import { AppException } from '../../src/common/app-exception';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { metricValue, scrapeMetrics } from '../support/metrics';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken, pauseTeam, resumeTeam } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

/** The headers a response may differ in between two identical requests. */
const PER_RESPONSE = ['date', 'x-request-id', 'etag', 'connection', 'keep-alive'];

function comparable(res: request.Response) {
  const headers = Object.fromEntries(
    Object.entries(res.headers).filter(([name]) => !PER_RESPONSE.includes(name)),
  );
  return { status: res.status, headers, body: res.body as unknown };
}

// GETs and HEADs of a recently verified token skip the Nest pipeline (ArtifactFastPath). The
// first request of a token always takes the Nest route, so each case compares the two answers.
describe.each(['fs', 's3'] as const)('the artifact fast path on %s storage', (driver) => {
  let t: TestApp;
  let s3: TestS3Server | undefined;
  let token: string;
  let teamId: string;
  let tryServe: jest.SpyInstance<boolean, []>;
  /** How many requests the fast path took so far. */
  const taken = () => tryServe.mock.results.filter((r) => r.value === true).length;

  beforeAll(async () => {
    if (driver === 's3') s3 = await startS3Server();
    t = await createTestApp(s3?.env ?? {});
    // Which requests the fast path took: tryServe() answers true for those.
    tryServe = jest.spyOn(
      t.app.get(ArtifactFastPath) as unknown as { tryServe: () => boolean },
      'tryServe',
    );
    const team = await createTeam(t, `fast-${driver}`);
    teamId = team.id;
    token = (await issueToken(t, team)).token;
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
    await s3?.close();
  });

  /** A token the server has not seen yet: its first request goes through the Nest route. */
  const freshToken = async () => (await issueToken(t, teamId)).token;

  const stored = new Map<string, Buffer>();
  const artifact = async (size: number) => {
    const hash = randomHash();
    const body = randomBytes(size);
    await putArtifact(t.server, token, hash, body, {
      'x-artifact-tag': 'dGFn',
      'x-artifact-sha': 'abc',
    }).expect(202);
    stored.set(hash, body);
    return hash;
  };

  it.each([
    ['a small hit', 'GET', 10_000, ''],
    ['a hit too large to keep in memory', 'GET', 300_000, ''],
    ['a hit at /artifacts with ?teamId', 'GET', 500, '?teamId={team}'],
    ['a hit at //v8 with ?slug', 'GET', 500, '?slug={slug}'],
    ['an empty artifact', 'GET', 0, ''],
    ['a HEAD hit', 'HEAD', 700, ''],
    ['a miss', 'GET', -1, ''],
    ['a HEAD miss', 'HEAD', -1, ''],
  ])('answers %s exactly as the Nest route does', async (_label, method, size, rawQuery) => {
    const hash = size < 0 ? randomHash() : await artifact(size);
    const query = rawQuery.replace('{team}', teamId).replace('{slug}', `fast-${driver}`);
    const prefix = rawQuery.includes('teamId')
      ? '/artifacts'
      : rawQuery
        ? '//v8/artifacts'
        : '/v8/artifacts';
    const fresh = await freshToken();
    const url = `${prefix}/${hash}${query}`;
    const send = () =>
      method === 'HEAD'
        ? request(t.server).head(url).set(bearer(fresh))
        : request(t.server).get(url).set(bearer(fresh)).buffer(true).parse(collect);
    const before = taken();
    const viaNest = await send();
    expect(taken()).toBe(before);
    const viaFastPath = await send();
    const again = await send();

    expect(taken()).toBe(before + 2);
    expect(comparable(viaFastPath)).toEqual(comparable(viaNest));
    expect(comparable(again)).toEqual(comparable(viaNest));
    expect(viaFastPath.status).toBe(size < 0 ? 404 : 200);
    if (size >= 0 && method === 'GET') expect(viaFastPath.body).toEqual(stored.get(hash));
    if (size < 0 && method === 'GET') {
      expect(JSON.parse(viaFastPath.body.toString())).toEqual({
        code: 'not_found',
        message: 'no such artifact',
        error: { code: 'not_found', message: 'no such artifact' },
      });
    }
    expect(viaFastPath.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never serves a paused team, however fresh its token is in memory', async () => {
    const team = await createTeam(t, `paused-${driver}`);
    const own = (await issueToken(t, team)).token;
    const hash = randomHash();
    await putArtifact(t.server, own, hash, randomBytes(100)).expect(202);
    await getArtifact(t.server, own, hash).expect(200);
    await pauseTeam(t, team);
    // Within AUTH_RECHECK_MS, then every request, also once the token is verified again.
    await eventually(async () => {
      expect((await getArtifact(t.server, own, hash)).status).toBe(403);
    }, 5_000);
    for (let i = 0; i < 5; i++) {
      const res = await getArtifact(t.server, own, hash);
      expect(res.status).toBe(403);
      await sleep(400);
    }
    await resumeTeam(t, team);
    await eventually(async () => {
      await getArtifact(t.server, own, hash).expect(200);
    }, 5_000);
  });

  it('applies a gate added to CacheAuthService to the fast path too, without touching it', async () => {
    const hash = await artifact(500);
    await getArtifact(t.server, token, hash).expect(200);
    await getArtifact(t.server, token, hash).expect(200);
    const before = taken();
    const gate: CacheGate = (principal) => {
      if (principal.teamId === teamId) throw AppException.forbidden('gated for this test');
    };
    CACHE_GATES.push(gate);
    try {
      const res = await getArtifact(t.server, token, hash);
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body.toString()).message).toBe('gated for this test');
      // The warm token no longer passes peek(): the request went to the guard, which refused.
      expect(taken()).toBe(before);
    } finally {
      CACHE_GATES.splice(CACHE_GATES.indexOf(gate), 1);
    }
    await getArtifact(t.server, token, hash).expect(200);
  });

  it('echoes a given x-request-id', async () => {
    const hash = await artifact(100);
    await getArtifact(t.server, token, hash).expect(200);
    const res = await getArtifact(t.server, token, hash)
      .set('x-request-id', 'ci-run-42')
      .expect(200);
    expect(res.headers['x-request-id']).toBe('ci-run-42');
  });

  it('hands everything it does not take to the Nest route: team checks, bad tokens, odd URLs', async () => {
    const hash = await artifact(100);
    await getArtifact(t.server, token, hash).expect(200);
    const get = (path: string) =>
      request(t.server).get(path).set(bearer(token)).buffer(true).parse(collect);
    const before = taken();

    expect((await get(`/v8/artifacts/${hash}?slug=someone-else`)).status).toBe(403);
    const twice = await get(`/v8/artifacts/${hash}?slug=a&slug=b`);
    expect(twice.status).toBe(400);
    expect(twice.body.toString()).toContain('"code":"bad_request"');
    expect((await get(`/v8/artifacts/${hash}/`)).status).toBe(200);
    expect((await get(`/v8/artifacts/not-hex`)).status).toBe(400);
    expect(
      (
        await request(t.server)
          .get(`/v8/artifacts/${hash}`)
          .set(bearer(`${token}x`))
      ).status,
    ).toBe(401);
    expect(taken()).toBe(before);

    // The token was warm all along: plain requests are taken, with CORS headers as on Nest.
    const cors = await get(`/v8/artifacts/${hash}`).set('Origin', 'https://ci.example.com');
    expect(cors.status).toBe(200);
    expect(cors.headers['access-control-allow-origin']).toBe('*');
    expect(cors.headers['access-control-expose-headers']).toContain('x-artifact-tag');
    expect((await get(`/v8/artifacts/${hash.toUpperCase()}`)).status).toBe(200);
    expect(taken()).toBe(before + 2);
  });

  // S3 only: fs storage cannot be made to fail here (root ignores permissions).
  const onS3 = driver === 's3' ? it : () => undefined;
  onS3(
    'hands a lookup that fails to the Nest route, which answers 503 in the error shape',
    async () => {
      const hash = await artifact(300_000); // too large for memory: every GET asks S3
      await getArtifact(t.server, token, hash).expect(200);
      const before = taken();
      await s3!.stop();
      try {
        const res = await getArtifact(t.server, token, hash);
        expect(res.status).toBe(503);
        expect(JSON.parse(res.body.toString())).toMatchObject({
          code: 'unavailable',
          error: { code: 'unavailable' },
        });
        expect(taken()).toBe(before + 1);
      } finally {
        await s3!.restart();
      }
      await getArtifact(t.server, token, hash).expect(200);
    },
  );

  it('hands a request to the Nest route when the fast path itself fails before answering', async () => {
    const hash = await artifact(2_000);
    await getArtifact(t.server, token, hash).expect(200);
    const metrics = t.app.get(MetricsService);
    const lookup = jest.spyOn(metrics, 'recordLookup').mockImplementationOnce(() => {
      throw new Error('a bug in the fast path');
    });
    try {
      const res = await getArtifact(t.server, token, hash).expect(200);
      expect(res.body).toEqual(stored.get(hash));
      // Once by the fast path (which threw), once by the Nest route that answered.
      expect(lookup).toHaveBeenCalledTimes(2);
    } finally {
      lookup.mockRestore();
    }
  });

  it('counts its requests, hits, misses and bytes like the Nest route', async () => {
    const hash = await artifact(4_321);
    await getArtifact(t.server, token, hash).expect(200);
    const before = await scrapeMetrics(t.server);
    await getArtifact(t.server, token, hash).expect(200);
    await getArtifact(t.server, token, hash).expect(200);
    await getArtifact(t.server, token, randomHash()).expect(404);
    await request(t.server).head(`/artifacts/${hash}`).set(bearer(token)).expect(200);
    const after = await scrapeMetrics(t.server);
    const delta = (name: string, labels: Record<string, string>) =>
      metricValue(after, name, labels) - metricValue(before, name, labels);
    const team = { team: `fast-${driver}` };
    const route = (method: string, path: string, status: string) => ({
      method,
      route: path,
      status,
    });
    expect(delta('teamcache_http_requests_total', route('GET', '/v8/artifacts/:hash', '200'))).toBe(
      2,
    );
    expect(delta('teamcache_http_requests_total', route('GET', '/v8/artifacts/:hash', '404'))).toBe(
      1,
    );
    expect(delta('teamcache_http_requests_total', route('HEAD', '/artifacts/:hash', '200'))).toBe(
      1,
    );
    expect(delta('teamcache_cache_lookups_total', { ...team, result: 'hit' })).toBe(2);
    expect(delta('teamcache_cache_lookups_total', { ...team, result: 'miss' })).toBe(1);
    expect(delta('teamcache_artifact_downloaded_bytes_total', team)).toBe(2 * 4_321);
  });
});

/** supertest parser: the raw body bytes, whatever the content type. */
function collect(res: request.Response, done: (error: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(null, Buffer.concat(chunks)));
}
