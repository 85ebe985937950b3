import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

// Hits reuse the headers read beside the same stored body, and misses ask storage only; these
// tests pin down that neither ever serves one upload's headers with another upload's bytes.
describe.each(['fs', 's3'] as const)('artifact lookups on %s storage', (driver) => {
  let s3: TestS3Server | undefined;
  let dataDir: string;
  let a: TestApp;
  let b: TestApp;
  let token: string;

  beforeAll(async () => {
    if (driver === 's3') s3 = await startS3Server();
    // Two replicas sharing the database and the storage.
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-lookups-'));
    const env = { ...(s3?.env ?? {}), DATA_DIR: dataDir };
    a = await createTestApp(env);
    b = await createTestApp(env, { databaseUrl: a.databaseUrl });
    token = (await issueToken(a, await createTeam(a, `lookups-${driver}`))).token;
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    await s3?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const upload = (t: TestApp, hash: string, body: Buffer, tag: string) =>
    putArtifact(t.server, token, hash, body, { 'x-artifact-tag': tag }).expect(202);
  const expectServed = async (t: TestApp, hash: string, body: Buffer, tag: string) => {
    const res = await getArtifact(t.server, token, hash).expect(200);
    expect(res.headers['x-artifact-tag']).toBe(tag);
    expect(res.body).toEqual(body);
    const head = await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token));
    expect(head.status).toBe(200);
    expect(head.headers['x-artifact-tag']).toBe(tag);
    expect(head.headers['content-length']).toBe(String(body.length));
  };

  it('serves a re-upload with its own headers at once on the same replica', async () => {
    const hash = randomHash();
    const first = randomBytes(1_000);
    const second = randomBytes(2_000);
    await upload(a, hash, first, 'Zmlyc3Q=');
    await expectServed(a, hash, first, 'Zmlyc3Q=');
    await upload(a, hash, second, 'c2Vjb25k');
    await expectServed(a, hash, second, 'c2Vjb25k');
  });

  it.each([
    ['a small artifact (kept in memory)', 1_500],
    ['a large artifact (streamed)', 300_000],
  ])("serves another replica's re-upload of %s within a second, never mixed", async (_, size) => {
    const hash = randomHash();
    const first = randomBytes(size);
    const second = randomBytes(size + 1_000);
    await upload(a, hash, first, 'Zmlyc3Q=');
    await expectServed(b, hash, first, 'Zmlyc3Q=');
    await upload(a, hash, second, 'c2Vjb25k');
    const started = Date.now();
    for (;;) {
      const res = await getArtifact(b.server, token, hash).expect(200);
      // Until b notices, it serves the first upload whole: its tag with its bytes.
      const tag = res.headers['x-artifact-tag'];
      expect(res.body).toEqual(tag === 'c2Vjb25k' ? second : first);
      if (tag === 'c2Vjb25k') break;
      expect(Date.now() - started).toBeLessThan(2_500);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expectServed(b, hash, second, 'c2Vjb25k');
  });

  it('answers recent hits and all misses without reading the artifacts table', async () => {
    const seen = randomHash();
    const unseen = randomHash();
    const body = randomBytes(3_000);
    await upload(a, seen, body, 'c2Vlbg==');
    await upload(a, unseen, randomBytes(10), 'dW5zZWVu');
    await expectServed(a, seen, body, 'c2Vlbg==');
    // Any query on the artifacts table now fails; teams and tokens still answer.
    await a.dataSource.query('ALTER TABLE artifacts RENAME TO artifacts_elsewhere');
    try {
      await expectServed(a, seen, body, 'c2Vlbg==');
      await getArtifact(a.server, token, randomHash()).expect(404);
      await request(a.server).head(`/v8/artifacts/${randomHash()}`).set(bearer(token)).expect(404);
      // The control: a hit this replica has not seen needs the row, and says so.
      expect((await getArtifact(a.server, token, unseen)).status).toBeGreaterThanOrEqual(500);
    } finally {
      await a.dataSource.query('ALTER TABLE artifacts_elsewhere RENAME TO artifacts');
    }
    await getArtifact(a.server, token, unseen).expect(200);
  });
});
