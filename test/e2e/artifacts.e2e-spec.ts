import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import request from 'supertest';
import { ArtifactAccessRecorder } from '../../src/artifacts/artifact-access.recorder';
import { BLOB_STORAGE, BlobStorage } from '../../src/storage/blob-storage';
import type { Team } from '../../src/teams/team.entity';
import { abortedPut, getArtifact, putArtifact, randomHash, sha256 } from '../support/artifacts';
import { blobExists, currentBlobKey } from '../support/usage';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestAppOn, TestApp } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

const MAX = 64 * 1024;

describe.each(['fs', 's3'] as const)('artifacts on %s storage', (driver) => {
  let t: TestApp;
  let team: Team;
  let token: string;
  let storage: BlobStorage;

  beforeAll(async () => {
    t = await createTestAppOn(driver, { MAX_ARTIFACT_SIZE: String(MAX) });
    storage = t.app.get(BLOB_STORAGE);
    team = await createTeam(t, `acme-${driver}`);
    token = (await issueToken(t, team)).token;
  });
  afterAll(() => t.close());

  /** Any body of `hash` in storage (every upload has a key of its own), or null. */
  const stored = async (hash: string) => ((await blobExists(t, team.id, hash)) ? hash : null);
  const row = async (hash: string) =>
    (
      await t.dataSource.query('SELECT * FROM artifacts WHERE team_id = $1 AND hash = $2', [
        team.id,
        hash,
      ])
    )[0];

  describe('GET /v8/artifacts/status', () => {
    it.each(['/v8/artifacts/status', '/artifacts/status', '//v8/artifacts/status'])(
      'answers enabled at %s',
      async (url) => {
        const res = await request(t.server).get(url).set(bearer(token)).expect(200);
        expect(res.body).toEqual({ status: 'enabled' });
      },
    );
  });

  describe('PUT then GET /v8/artifacts/:hash', () => {
    it('returns the exact bytes and every header as uploaded', async () => {
      const hash = randomHash();
      const body = randomBytes(40_000);
      const tag = randomBytes(48).toString('base64');
      const put = await putArtifact(t.server, token, hash, body, {
        'x-artifact-duration': '4321',
        'x-artifact-tag': tag,
        'x-artifact-sha': 'f'.repeat(40),
        'x-artifact-dirty-hash': 'abc123',
        'x-artifact-client-ci': 'github-actions',
        'x-artifact-client-interactive': '0',
      });
      expect(put.status).toBe(202);
      expect(put.body.urls).toHaveLength(1);

      const res = await getArtifact(t.server, token, hash).expect(200);
      expect(sha256(res.body)).toBe(sha256(body));
      expect(res.headers).toMatchObject({
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
        'x-artifact-duration': '4321',
        'x-artifact-tag': tag,
        'x-artifact-sha': 'f'.repeat(40),
        'x-artifact-dirty-hash': 'abc123',
      });
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(await row(hash)).toMatchObject({
        size: String(body.length),
        client_ci: 'github-actions',
        client_interactive: false,
      });
    });

    it('serves the same artifact at /artifacts/:hash, by slug and by teamId', async () => {
      const hash = randomHash();
      const body = randomBytes(100);
      await putArtifact(t.server, token, hash, body).expect(202);
      for (const url of [
        `/artifacts/${hash}`,
        `/v8/artifacts/${hash}?slug=${team.slug}`,
        `/v8/artifacts/${hash}?teamId=${team.id}`,
      ]) {
        const res = await request(t.server).get(url).set(bearer(token)).expect(200);
        expect(sha256(res.body)).toBe(sha256(body));
      }
    });

    it('stores an empty artifact', async () => {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, Buffer.alloc(0)).expect(202);
      const res = await getArtifact(t.server, token, hash).expect(200);
      expect(res.headers['content-length']).toBe('0');
    });

    it('sends x-artifact-duration 0 when none was uploaded', async () => {
      const hash = randomHash();
      await request(t.server)
        .put(`/v8/artifacts/${hash}`)
        .set(bearer(token))
        .send(Buffer.from('x'))
        .expect(202);
      const res = await request(t.server)
        .head(`/v8/artifacts/${hash}`)
        .set(bearer(token))
        .expect(200);
      expect(res.headers['x-artifact-duration']).toBe('0');
      expect(res.headers['x-artifact-tag']).toBeUndefined();
    });

    it('counts hits and last access off the response path', async () => {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(10)).expect(202);
      await getArtifact(t.server, token, hash).expect(200);
      await getArtifact(t.server, token, hash).expect(200);
      expect((await row(hash)).hit_count).toBe(0);
      await t.app.get(ArtifactAccessRecorder).flush();
      expect((await row(hash)).hit_count).toBe(2);
    });
  });

  describe('HEAD /v8/artifacts/:hash', () => {
    it('answers 200 with the GET headers and no body', async () => {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(321), {
        'x-artifact-tag': 'dGFn',
      }).expect(202);
      const res = await request(t.server)
        .head(`/v8/artifacts/${hash}`)
        .set(bearer(token))
        .expect(200);
      expect(res.headers['content-length']).toBe('321');
      expect(res.headers['x-artifact-tag']).toBe('dGFn');
      expect(res.headers['x-artifact-duration']).toBe('1234');
      expect(res.body).toEqual({});
    });

    it('answers 404 for an absent artifact', async () => {
      await request(t.server).head(`/v8/artifacts/${randomHash()}`).set(bearer(token)).expect(404);
    });
  });

  describe('GET of an absent artifact', () => {
    it('is 404 in the error shape', async () => {
      const res = await request(t.server)
        .get(`/v8/artifacts/${randomHash()}`)
        .set(bearer(token))
        .expect(404);
      expect(res.body).toEqual({
        code: 'not_found',
        message: 'no such artifact',
        error: { code: 'not_found', message: 'no such artifact' },
      });
    });

    it('is 404, and the metadata is repaired soon after, when the blob was deleted behind our back', async () => {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(10)).expect(202);
      await getArtifact(t.server, token, hash).expect(200);
      await storage.delete(await currentBlobKey(t, team.id, hash));
      await getArtifact(t.server, token, hash).expect(404);
      expect(await eventually(async () => expect(await row(hash)).toBeUndefined())).toBeLessThan(
        2_000,
      );
    });

    it('keeps the row of a miss whose blob is there again by the time it is checked', async () => {
      const hash = randomHash();
      const body = randomBytes(10);
      await putArtifact(t.server, token, hash, body).expect(202);
      await storage.delete(await currentBlobKey(t, team.id, hash));
      await getArtifact(t.server, token, hash).expect(404);
      await putArtifact(t.server, token, hash, body).expect(202);
      await sleep(1_000);
      expect(await row(hash)).toBeDefined();
      expect((await getArtifact(t.server, token, hash).expect(200)).body).toEqual(body);
    });

    it('never serves a blob that has no metadata', async () => {
      const hash = randomHash();
      await storage.put(`${team.id}/${hash}`, streamOf(randomBytes(10)), 10);
      await getArtifact(t.server, token, hash).expect(404);
      await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token)).expect(404);
    });
  });

  describe('POST /v8/artifacts (query)', () => {
    it('answers every hash: a summary when present, null when not', async () => {
      const hit = randomHash();
      const miss = randomHash();
      await putArtifact(t.server, token, hit, randomBytes(77), {
        'x-artifact-tag': 'c2ln',
        'x-artifact-sha': 'abc',
      }).expect(202);
      const res = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .send({ hashes: [hit, miss] })
        .expect(200);
      expect(res.body).toEqual({
        [hit]: { size: 77, taskDurationMs: 1234, tag: 'c2ln', sha: 'abc' },
        [miss]: null,
      });
    });

    it.each([
      ['a non-hex hash', { hashes: ['zz'] }],
      ['a non-array', { hashes: 'abc' }],
      ['an unknown field', { hashes: [], extra: 1 }],
      ['too many hashes', { hashes: Array.from({ length: 1025 }, (_, i) => i.toString(16)) }],
    ])('rejects %s with 400', async (_name, body) => {
      const res = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .send(body)
        .expect(400);
      expect(res.body.code).toBe('bad_request');
      expect(res.body.error.code).toBe('bad_request');
    });

    it('rejects malformed JSON with 400 in the error shape', async () => {
      const res = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .set('Content-Type', 'application/json')
        .send('{"hashes": [')
        .expect(400);
      expect(res.body).toMatchObject({ code: 'bad_request', error: { code: 'bad_request' } });
    });
  });

  describe('bad uploads leave nothing behind', () => {
    it.each([
      ['a non-hex hash', 'not-hex', {}, 400],
      ['a hash over 128 characters', 'a'.repeat(129), {}, 400],
      ['a non-numeric duration', null, { 'x-artifact-duration': 'soon' }, 400],
      ['a tag over 600 characters', null, { 'x-artifact-tag': 'a'.repeat(601) }, 400],
      ['a client-ci over 50 characters', null, { 'x-artifact-client-ci': 'c'.repeat(51) }, 400],
      ['interactive other than 0/1', null, { 'x-artifact-client-interactive': '2' }, 400],
    ])('%s is %d', async (_name, givenHash, headers, status) => {
      const hash = givenHash ?? randomHash();
      const res = await putArtifact(
        t.server,
        token,
        hash,
        randomBytes(10),
        headers as Record<string, string>,
      );
      expect(res.status).toBe(status);
      expect(res.body.code).toBe('bad_request');
      if (givenHash === null) expect(await stored(hash)).toBeNull();
    });

    it('answers 413 to a Content-Length over MAX_ARTIFACT_SIZE before reading the body', async () => {
      const hash = randomHash();
      const res = await putArtifact(t.server, token, hash, randomBytes(MAX + 1));
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload_too_large');
      expect(await stored(hash)).toBeNull();
    });

    it('leaves a 404 when the client disconnects halfway', async () => {
      const hash = randomHash();
      await abortedPut(t.server, token, hash, 40_000, 20_000);
      // The server notices the hang-up, then removes its temp file.
      await eventually(async () => {
        await getArtifact(t.server, token, hash).expect(404);
        expect(await stored(hash)).toBeNull();
        if (driver === 'fs') expect(leftoverTempFiles(t.config.dataDir)).toEqual([]);
      });
    });

    it('keeps one whole body when four clients upload one hash at once', async () => {
      const hash = randomHash();
      const bodies = [1, 2, 3, 4].map(() => randomBytes(50_000));
      const results = await Promise.all(bodies.map((b) => putArtifact(t.server, token, hash, b)));
      expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202]);
      const res = await getArtifact(t.server, token, hash).expect(200);
      expect(bodies.map((b) => sha256(b))).toContain(sha256(res.body));
    });
  });

  describe('tenancy', () => {
    it("never shows one team's artifact to another team", async () => {
      const other = await createTeam(t, `other-${driver}`);
      const otherToken = (await issueToken(t, other)).token;
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(10)).expect(202);
      await getArtifact(t.server, otherToken, hash).expect(404);
      const q = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(otherToken))
        .send({ hashes: [hash] })
        .expect(200);
      expect(q.body).toEqual({ [hash]: null });
      const cross = await getArtifact(t.server, otherToken, hash, `?slug=${team.slug}`).expect(403);
      expect(JSON.parse(cross.body.toString()).error.code).toBe('forbidden');
    });

    it('answers 401, and keeps no blob, when the team is deleted while its token is cached', async () => {
      const doomed = await createTeam(t, `doomed-${driver}`);
      const doomedToken = (await issueToken(t, doomed)).token;
      // Warm the auth caches, then delete the team behind their back.
      await request(t.server).get('/v8/artifacts/status').set(bearer(doomedToken)).expect(200);
      await t.dataSource.query('DELETE FROM teams WHERE id = $1', [doomed.id]);
      const hash = randomHash();
      const res = await putArtifact(t.server, doomedToken, hash, randomBytes(100));
      expect(res.status).toBe(401);
      expect(res.body.message).toBe('the team of this token no longer exists');
      expect(await storage.stat(`${doomed.id}/${hash}`)).toBeNull();
    });

    it('answers 401 without a token and 403 to a read-only token on PUT', async () => {
      const hash = randomHash();
      await request(t.server).get(`/v8/artifacts/${hash}`).expect(401);
      const readOnly = (await issueToken(t, team, { readOnly: true })).token;
      const res = await putArtifact(t.server, readOnly, hash, randomBytes(10)).expect(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(await stored(hash)).toBeNull();
    });
  });
});

function streamOf(data: Buffer) {
  return Readable.from([data]);
}

function leftoverTempFiles(dataDir: string): string[] {
  const blobs = path.join(dataDir, 'blobs');
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/tmp|part/i.test(path.relative(blobs, full))) found.push(full);
    }
  };
  walk(blobs);
  return found;
}
