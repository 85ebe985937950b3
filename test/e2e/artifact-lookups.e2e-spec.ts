import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { INDEX_RECHECK_MS } from '../../src/artifacts/artifacts.service';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { sleep } from '../support/wait';

// Lookups trust the artifact row they read (or its absence) for INDEX_RECHECK_MS; the row names
// the one stored body it serves. These tests pin down that a hit never pairs one upload's
// headers with another upload's bytes, and that another replica's change shows within the bound.
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
    expect((res.body as Buffer).equals(body)).toBe(true);
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
      // Buffer.equals: jest's element-wise toEqual takes seconds on 300 KB.
      expect((res.body as Buffer).equals(tag === 'c2Vjb25k' ? second : first)).toBe(true);
      if (tag === 'c2Vjb25k') break;
      // INDEX_RECHECK_MS, with room for a loaded CI machine.
      expect(Date.now() - started).toBeLessThan(INDEX_RECHECK_MS + 1_500);
      await sleep(50);
    }
    await expectServed(b, hash, second, 'c2Vjb25k');
  });

  it('answers a hit and a miss it looked up less than INDEX_RECHECK_MS ago without the artifacts table', async () => {
    const seen = randomHash();
    const absent = randomHash();
    const unseen = randomHash();
    const body = randomBytes(3_000);
    await upload(a, seen, body, 'c2Vlbg==');
    await upload(a, unseen, randomBytes(10), 'dW5zZWVu');
    await getArtifact(a.server, token, seen).expect(200);
    await getArtifact(a.server, token, absent).expect(404);
    // Any query on the artifacts table now fails; teams and tokens still answer.
    await a.dataSource.query('ALTER TABLE artifacts RENAME TO artifacts_elsewhere');
    try {
      const [hit, miss, control] = await Promise.all([
        getArtifact(a.server, token, seen),
        getArtifact(a.server, token, absent),
        // The control: a hash this replica has not looked up needs the table, and says so.
        getArtifact(a.server, token, unseen),
      ]);
      expect(hit.status).toBe(200);
      expect(hit.body).toEqual(body);
      expect(miss.status).toBe(404);
      expect(control.status).toBeGreaterThanOrEqual(500);
    } finally {
      await a.dataSource.query('ALTER TABLE artifacts_elsewhere RENAME TO artifacts');
    }
    await getArtifact(a.server, token, unseen).expect(200);
  });
});
