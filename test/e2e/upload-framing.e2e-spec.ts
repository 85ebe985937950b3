import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Team } from '../../src/teams/team.entity';
import { chunkedPut, getArtifact, randomHash } from '../support/artifacts';
import { expectContinuePut, rawRequest } from '../support/raw-http';
import { listeningPort } from '../support/ports';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, createTestAppOn, TestApp } from '../support/test-app';
import { blobExists, storedBlobKeys } from '../support/usage';

const MAX = 256 * 1024;

/**
 * How an upload's body may be framed (protocol.md): with Content-Length (turbo 1.10.x, 1.13.2,
 * 2.2 and later), or chunked without one (turbo 1.13.4 through 2.1.x), and with
 * `Expect: 100-continue` (curl over 1 MiB, proxies).
 */
describe.each(['fs', 's3'] as const)('upload framing on %s storage', (driver) => {
  let t: TestApp;
  let team: Team;
  let token: string;
  let port: number;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    t = await createTestAppOn(driver, { MAX_ARTIFACT_SIZE: String(MAX) });
    team = await createTeam(t, 'acme');
    token = (await issueToken(t, team)).token;
    port = await listeningPort(t.server);
  });
  afterAll(() => t.close());

  describe('PUT with Transfer-Encoding: chunked', () => {
    it('stores the body and its counted size, and serves it back byte for byte', async () => {
      const hash = randomHash();
      const body = randomBytes(MAX - 1);
      const res = await chunkedPut(t.server, token, hash, body);
      expect(res.status).toBe(202);
      const got = await getArtifact(t.server, token, hash).expect(200);
      expect((got.body as Buffer).equals(body)).toBe(true);
      expect(got.headers['content-length']).toBe(String(body.length));
      const query = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .send({ hashes: [hash] })
        .expect(200);
      expect(query.body[hash].size).toBe(body.length);
    });

    it('cuts a body past MAX_ARTIFACT_SIZE with 413 and keeps nothing', async () => {
      const hash = randomHash();
      const res = await chunkedPut(t.server, token, hash, randomBytes(MAX + 1));
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).code).toBe('payload_too_large');
      await getArtifact(t.server, token, hash).expect(404);
      expect(await blobExists(t, team.id, hash)).toBe(false);
      if (driver === 'fs') {
        const fs = await import('node:fs');
        const path = await import('node:path');
        expect(fs.readdirSync(path.join(t.config.dataDir, 'blobs', '.tmp'))).toEqual([]);
      }
    });
  });

  it('answers 411 to an upload that is neither sized nor chunked', async () => {
    const hash = randomHash();
    const res = await rawRequest(port, {
      method: 'PUT',
      path: `/v8/artifacts/${hash}`,
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(411);
    expect(res.json).toMatchObject({ code: 'length_required' });
  });

  describe('PUT with Expect: 100-continue', () => {
    const path = (hash: string) => `/v8/artifacts/${hash}`;

    it('invites the body once every check passed, and stores it', async () => {
      const hash = randomHash();
      const body = randomBytes(5_000);
      const { invited, response } = await expectContinuePut(
        port,
        path(hash),
        { Authorization: `Bearer ${token}`, 'Content-Length': body.length },
        body,
      );
      expect(invited).toBe(true);
      expect(response.status).toBe(202);
      expect((await getArtifact(t.server, token, hash).expect(200)).body).toEqual(body);
    });

    it.each([
      ['a read-only token', 'read-only', 403],
      ['a bad token', 'bad', 401],
      ['a length over MAX_ARTIFACT_SIZE', 'oversize', 413],
    ])('refuses %s with its final status, never inviting the body', async (_, kind, status) => {
      const hash = randomHash();
      const readOnly = (await issueToken(t, team, { readOnly: true })).token;
      const auth =
        kind === 'bad' ? 'Bearer not-a-token' : `Bearer ${kind === 'read-only' ? readOnly : token}`;
      const length = kind === 'oversize' ? MAX + 1 : 1_000;
      const { invited, response } = await expectContinuePut(
        port,
        path(hash),
        { Authorization: auth, 'Content-Length': length },
        randomBytes(length),
        5_000,
      );
      expect(invited).toBe(false);
      expect(response.status).toBe(status);
      expect(await storedBlobKeys(t, team.id)).not.toContain(expect.stringContaining(hash));
    });
  });
});

describe('chunked uploads under QUOTA_MODE=reject', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ QUOTA_MODE: 'reject', TEAM_QUOTA_BYTES: '1000' });
  });
  afterAll(() => t.close());

  it('checks the counted size against the quota before the row is written', async () => {
    const team = await createTeam(t, 'quota');
    const { token } = await issueToken(t, team);
    const fits = randomHash();
    expect((await chunkedPut(t.server, token, fits, randomBytes(600))).status).toBe(202);
    const over = randomHash();
    const res = await chunkedPut(t.server, token, over, randomBytes(600));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).code).toBe('remote_caching_over_limit');
    await getArtifact(t.server, token, over).expect(404);
    expect(await blobExists(t, team.id, over)).toBe(false);
    await getArtifact(t.server, token, fits).expect(200);
  });
});
