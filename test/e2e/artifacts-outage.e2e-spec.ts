import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Team } from '../../src/teams/team.entity';
import { getArtifact, putArtifact, randomHash, sha256 } from '../support/artifacts';
import { startScratchPostgres } from '../support/postgres-server';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const unavailable = { code: 'unavailable', error: { code: 'unavailable' } };
const json = (body: Buffer | object) =>
  Buffer.isBuffer(body) ? JSON.parse(body.toString()) : body;

describe('artifact routes while S3 is down', () => {
  let t: TestApp;
  let s3: TestS3Server;
  let team: Team;
  let token: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    t = await createTestApp(s3.env);
    team = await createTeam(t, 'acme');
    token = (await issueToken(t, team)).token;
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('answers 503 in the error shape, keeps nothing partial, and recovers without restart', async () => {
    const kept = randomHash();
    const body = randomBytes(5_000);
    await putArtifact(t.server, token, kept, body).expect(202);

    await s3.stop();
    const get = await getArtifact(t.server, token, kept).expect(503);
    expect(json(get.body)).toMatchObject(unavailable);
    await request(t.server).head(`/v8/artifacts/${kept}`).set(bearer(token)).expect(503);

    const small = randomHash();
    const putSmall = await putArtifact(t.server, token, small, randomBytes(1_000)).expect(503);
    expect(putSmall.body).toMatchObject(unavailable);
    const large = randomHash();
    await putArtifact(t.server, token, large, randomBytes(9 * 1024 * 1024)).expect(503);
    await request(t.server).get('/readyz').expect(503);

    await s3.restart();
    const back = await getArtifact(t.server, token, kept).expect(200);
    expect(sha256(back.body)).toBe(sha256(body));
    await getArtifact(t.server, token, small).expect(404);
    await getArtifact(t.server, token, large).expect(404);
    await request(t.server).get('/readyz').expect(200);
  });
});

describe('artifact routes while PostgreSQL is down', () => {
  it('answers 503 in the error shape and recovers without restart', async () => {
    const pg = await startScratchPostgres();
    const t = await createTestApp({}, { adminUrl: pg.adminUrl });
    try {
      const team = await createTeam(t, 'acme');
      const { token } = await issueToken(t, team);
      const hash = randomHash();
      const body = randomBytes(1_000);
      await putArtifact(t.server, token, hash, body).expect(202);

      await pg.cluster.stop();
      const get = await getArtifact(t.server, token, hash).expect(503);
      expect(json(get.body)).toMatchObject(unavailable);
      const put = await putArtifact(t.server, token, randomHash(), body).expect(503);
      expect(put.body).toMatchObject(unavailable);
      const query = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .send({ hashes: [hash] });
      expect(query.status).toBe(503);

      await pg.cluster.start(true);
      await eventually(async () => {
        const res = await getArtifact(t.server, token, hash).expect(200);
        expect(sha256(res.body)).toBe(sha256(body));
      }, 20_000);
    } finally {
      await t.close();
      await pg.stop();
    }
  });
});
