import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as jwt from 'jsonwebtoken';
import { deriveTeamKey } from '../../src/tokens/team-key';
import type { Team } from '../../src/teams/team.entity';
import type { IssuedToken } from '../../src/tokens/tokens.service';
import { putArtifact, randomHash } from '../support/artifacts';
import { rawRequest, RawRequest, RawResponse } from '../support/raw-http';
import { listeningPort } from '../support/ports';
import { createTeam, issueToken, revokeToken } from '../support/teams';
import { currentBlobKey } from '../support/usage';
import { createTestApp, TEST_JWT_SECRET, TestApp } from '../support/test-app';

/**
 * Every cache route against bad credentials and hostile input: each answer is a 4xx in the
 * error shape (never a 500; a malformed usage event is skipped with 200), and nothing is ever
 * stored (checked once all cases ran).
 */
const MAX_ARTIFACT_SIZE = 1024 * 1024;
const SEED = 'abcdef0123456789';
const SESSION = '4f9c5a52-8d0e-4b8e-9e55-0d1c4f8f9a10';
const PROTO_HASH = '0000111122223333';
const event = (overrides: object = {}) => ({
  sessionId: SESSION,
  source: 'LOCAL',
  event: 'HIT',
  hash: SEED,
  duration: 1,
  ...overrides,
});
const json = (value: unknown) => ({
  headers: { 'Content-Type': 'application/json' },
  body: typeof value === 'string' ? value : JSON.stringify(value),
});

type Route = 'status' | 'put' | 'get' | 'head' | 'query' | 'events';
const ROUTES: Route[] = ['status', 'put', 'get', 'head', 'query', 'events'];

/** A well-formed request of each route; cases override parts of it. */
function wellFormed(route: Route, hash = SEED, query = ''): RawRequest {
  switch (route) {
    case 'status':
      return { method: 'GET', path: `/v8/artifacts/status${query}` };
    case 'put':
      return {
        method: 'PUT',
        path: `/v8/artifacts/${hash}${query}`,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': 16 },
        body: randomBytes(16),
      };
    case 'get':
      return { method: 'GET', path: `/v8/artifacts/${hash}${query}` };
    case 'head':
      return { method: 'HEAD', path: `/v8/artifacts/${hash}${query}` };
    case 'query':
      return { method: 'POST', path: `/v8/artifacts${query}`, ...json({ hashes: [hash] }) };
    case 'events':
      return { method: 'POST', path: `/v8/artifacts/events${query}`, ...json([event({ hash })]) };
  }
}

describe('hostile input on every cache route', () => {
  let t: TestApp;
  let port: number;
  let acme: Team;
  let acmeToken: IssuedToken;
  let readOnly: IssuedToken;
  let otherToken: IssuedToken;
  let revoked: IssuedToken;

  const signed = (claims: object, secret = TEST_JWT_SECRET) =>
    jwt.sign(
      { team: acme.id, scope: 'read-write', kv: 1, jti: acmeToken.id, ...claims },
      deriveTeamKey(secret, acme.id, 1),
      { algorithm: 'HS256' },
    );

  beforeAll(async () => {
    // The per-address limit on failed authentications would turn this matrix's 401s into 429s.
    t = await createTestApp({
      MAX_ARTIFACT_SIZE: String(MAX_ARTIFACT_SIZE),
      RATE_LIMIT_AUTH_FAILURES: '0',
    });
    port = await listeningPort(t.server);
    acme = await createTeam(t, 'acme');
    const other = await createTeam(t, 'other');
    acmeToken = await issueToken(t, acme);
    readOnly = await issueToken(t, acme, { readOnly: true });
    otherToken = await issueToken(t, other);
    revoked = await issueToken(t, acme);
    await revokeToken(t, revoked.id);
    await putArtifact(t.server, acmeToken.token, SEED, randomBytes(100)).expect(202);
  });

  afterAll(async () => {
    // What every case must have left: the seed artifact, nothing else, anywhere.
    const rows = await t.dataSource.query('SELECT team_id, hash FROM artifacts');
    expect(rows).toEqual([{ team_id: acme.id, hash: SEED }]);
    // Only the __proto__ case may store its (otherwise valid) event.
    const events = await t.dataSource.query('SELECT 1 FROM usage_events WHERE hash <> $1', [
      PROTO_HASH,
    ]);
    expect(events).toEqual([]);
    const blobs = path.join(t.config.dataDir, 'blobs');
    const seedKey = await currentBlobKey(t, acme.id, SEED);
    expect(filesUnder(blobs)).toEqual([path.join('.tmp'), seedKey].sort());
    await t.close();
  });

  const send = (request: RawRequest, token?: string) =>
    rawRequest(port, {
      ...request,
      headers: {
        ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
        ...request.headers,
      },
    });

  function expectRejected(res: RawResponse, method: string, status?: number, code?: string) {
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    if (status !== undefined) expect(res.status).toBe(status);
    if (method === 'HEAD') return;
    const body = res.json as { code: string; message: string };
    expect(body).toEqual({
      code: code ?? expect.any(String),
      message: expect.any(String),
      error: { code: body?.code, message: body?.message },
    });
  }

  describe('credentials', () => {
    const credentials: [string, () => string | undefined, number][] = [
      ['no token', () => undefined, 401],
      ['a garbage token', () => 'not.a.jwt', 401],
      ['a 10 KB garbage token', () => 'x'.repeat(10_000), 401],
      ['a forged token', () => signed({}, 'another-server-secret-0123456789abcdef'), 401],
      ['an expired token', () => signed({ exp: Math.floor(Date.now() / 1000) - 60 }), 401],
      ['a revoked token', () => revoked.token, 401],
    ];
    const cases = ROUTES.flatMap((route) =>
      credentials.map(([name, token, status]) => [route, name, status, token] as const),
    );

    it.each(cases)('%s with %s answers %d', async (route, _name, status, token) => {
      const request = wellFormed(route, randomHash());
      expectRejected(await send(request, token()), request.method, status, 'unauthorized');
    });

    it.each(ROUTES)("%s with another team's token naming acme answers 403", async (route) => {
      const request = wellFormed(route, randomHash(), '?slug=acme');
      expectRejected(await send(request, otherToken.token), request.method, 403, 'forbidden');
    });

    it.each(['get', 'head'] as const)(
      "%s with another team's token never finds acme's artifact",
      async (route) => {
        const request = wellFormed(route, SEED);
        expectRejected(await send(request, otherToken.token), request.method, 404);
      },
    );

    it("query with another team's token answers null for acme's artifact", async () => {
      const res = await send(wellFormed('query', SEED), otherToken.token);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ [SEED]: null });
    });

    it('PUT with a read-only token answers 403 forbidden', async () => {
      const request = wellFormed('put', randomHash());
      expectRejected(await send(request, readOnly.token), 'PUT', 403, 'forbidden');
    });
  });

  describe('input', () => {
    const TRAVERSALS = [
      '..%2f..%2fetc%2fpasswd',
      '..%2F..%2F..%2Fetc',
      '%2e%2e%2f%2e%2e%2fetc',
      'abc%2fdef',
      'abc%00',
      '%00',
      'abc%5c..%5cdef',
      'abc%0d%0aX-Injected:%201',
      '%zz',
      '%c0%ae%c0%ae%c0%af',
      '%EF%BC%A1',
      'a'.repeat(129),
      'xyz',
      '0x1f',
    ];
    const QUERIES = [
      "?slug=acme'--",
      "?slug='%20OR%20'1'='1",
      '?slug=%C3%A1cme',
      '?slug=acme%00',
      '?slug=acme;DROP%20TABLE%20artifacts',
      `?slug=${'a'.repeat(5_000)}`,
      '?slug=acme&slug=acme',
      "?teamId=team_x'%20OR%201=1--",
      '?teamId=team_%F0%9F%98%80',
      '?teamId=..%2f..%2fteam_other',
      '?slug=other',
      '?teamId=team_doesnotexist0000',
    ];
    const hashRoutes = ['put', 'get', 'head'] as const;

    it.each(hashRoutes.flatMap((route) => TRAVERSALS.map((hash) => [route, hash] as const)))(
      '%s of the hash %j answers 4xx',
      async (route, hash) => {
        const request = wellFormed(route, hash);
        expectRejected(await send(request, acmeToken.token), request.method);
      },
    );

    it.each(['/v8/artifacts/../../etc/passwd', '/v8/artifacts/./../artifacts/status/..'])(
      'GET of the raw path %s answers 4xx',
      async (rawPath) => {
        expectRejected(await send({ method: 'GET', path: rawPath }, acmeToken.token), 'GET');
      },
    );

    it.each(ROUTES.flatMap((route) => QUERIES.map((query) => [route, query] as const)))(
      '%s with the team query %s answers 4xx',
      async (route, query) => {
        const request = wellFormed(route, randomHash(), query);
        expectRejected(await send(request, acmeToken.token), request.method);
      },
    );

    it.each(ROUTES)('%s with a 20 KB header answers 431', async (route) => {
      const request = wellFormed(route, randomHash());
      request.headers = { ...request.headers, 'X-Padding': 'p'.repeat(20_000) };
      expectRejected(await send(request, acmeToken.token), request.method, 431);
    });

    const puts: [string, Partial<RawRequest>, number][] = [
      [
        'a Content-Length over MAX_ARTIFACT_SIZE',
        { headers: { 'Content-Length': 1 + MAX_ARTIFACT_SIZE } },
        413,
      ],
      ['a 16-digit Content-Length', { headers: { 'Content-Length': '9999999999999999' } }, 413],
      ['a negative Content-Length', { headers: { 'Content-Length': '-1' } }, 400],
      ['two different Content-Lengths', { rawHeaderLines: ['Content-Length: 17'] }, 400],
      ['chunked and Content-Length', { rawHeaderLines: ['Transfer-Encoding: chunked'] }, 400],
      ['a tag over 600 characters', { headers: { 'x-artifact-tag': 't'.repeat(601) } }, 400],
      [
        'a client-ci over 50 characters',
        { headers: { 'x-artifact-client-ci': 'c'.repeat(51) } },
        400,
      ],
      ['a negative duration', { headers: { 'x-artifact-duration': '-1' } }, 400],
      [
        'a duration with SQL',
        { headers: { 'x-artifact-duration': "1'; DROP TABLE artifacts;--" } },
        400,
      ],
      ['a control character in a header', { rawHeaderLines: ['x-artifact-sha: a\u0001b'] }, 400],
      ['a sha over 128 characters', { headers: { 'x-artifact-sha': 's'.repeat(129) } }, 400],
    ];
    it.each(puts)('PUT with %s answers %d', async (_name, override, status) => {
      const base = wellFormed('put', randomHash());
      const request = { ...base, ...override, headers: { ...base.headers, ...override.headers } };
      expectRejected(await send(request, acmeToken.token), 'PUT', status);
    });

    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const utf16 = {
      headers: { 'Content-Type': 'application/json; charset=utf-16le' },
      body: Buffer.from('{"hashes":[]}', 'utf16le'),
    };
    const bodies: [string, Route, number, Partial<RawRequest>][] = [
      ['malformed JSON', 'query', 400, json('{"hashes": [')],
      ['malformed JSON', 'events', 400, json('[{"sessionId":')],
      ['JSON null', 'query', 400, json('null')],
      ['a JSON string', 'events', 400, json('"HIT"')],
      ['a 2 MB JSON body', 'query', 413, json({ hashes: ['a'.repeat(2 * 1024 * 1024)] })],
      ['a 2 MB JSON body', 'events', 413, json([event({ hash: 'a'.repeat(2 * 1024 * 1024) })])],
      ['300,000 tiny items', 'events', 400, json(`[${Array(300_000).fill('{}').join(',')}]`)],
      ['200,000 hashes', 'query', 400, json({ hashes: Array(200_000).fill('a') })],
      ['1,025 hashes', 'query', 400, json({ hashes: Array(1_025).fill(SEED) })],
      ['1,001 events', 'events', 400, json(Array(1_001).fill(event()))],
      ['arrays nested 50,000 deep', 'events', 400, json(deep(50_000))],
      ['a hash nested 50,000 deep', 'query', 400, json(`{"hashes":${deep(50_000)}}`)],
      ['UTF-16 JSON', 'query', 400, utf16],
      ['SQL in a hash', 'query', 400, json({ hashes: ["abc'; DROP TABLE artifacts;--"] })],
      ['hashes that are numbers', 'query', 400, json({ hashes: [1, 2, 3] })],
    ];
    it.each(bodies)('a body of %s on %s answers %d', async (_name, route, status, override) => {
      const base = wellFormed(route);
      const body = override.body ?? base.body;
      const request = {
        ...base,
        ...override,
        headers: {
          ...base.headers,
          ...override.headers,
          'Content-Length': Buffer.byteLength(body!),
        },
      };
      const started = Date.now();
      expectRejected(await send(request, acmeToken.token), request.method, status);
      // Refused before any per-item work: no request costs the server more than a moment.
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    // A malformed event is skipped rather than refused (its batch's other events are stored):
    // the answer is 200, and afterAll checks that none of it was stored.
    const skippedEvents: [string, unknown][] = [
      ['SQL in a session id', event({ sessionId: "';DELETE FROM x;--" })],
      ['unicode in a hash', event({ hash: 'ａｂｃ' })],
      ['a non-object event', [SEED]],
    ];
    it.each(skippedEvents)('an event with %s is skipped with 200', async (_name, item) => {
      const res = await send({ ...wellFormed('events'), ...json([item]) }, acmeToken.token);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({});
    });
  });

  it('lets no __proto__ key of a body pollute anything', async () => {
    const body =
      '{"hashes":[],"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    const res = await send({ ...wellFormed('query'), ...json(body) }, acmeToken.token);
    // class-transformer skips these keys: ignored (200) or refused (400), never obeyed.
    expect(res.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const events = `[{"__proto__":{"polluted":true},"sessionId":"${SESSION}","source":"LOCAL","event":"HIT","hash":"${PROTO_HASH}"}]`;
    const res2 = await send({ ...wellFormed('events'), ...json(events) }, acmeToken.token);
    expect(res2.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('still serves the seed artifact whole after all of it', async () => {
    const res = await send(wellFormed('get', SEED), acmeToken.token);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(100);
  });
});

/** Every file and empty folder under `root`, relative to it (without the folders on the way). */
function filesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (entries.length === 0 && dir !== root) found.push(path.relative(root, dir));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(root, full));
    }
  };
  walk(root);
  return found.sort();
}
