import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { ArtifactAccessRecorder } from '../../src/artifacts/artifact-access.recorder';
import { SWEEP_LOCK_KEY } from '../../src/common/sweep-lock';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { ageArtifact, blobExists, currentBlobKey, storedHashes, sweep } from '../support/usage';
import { eventually } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
// No background sweeps: each test sweeps when it means to.
const ENV = { ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' };

async function seed(t: TestApp, slug: string, sizes: number[]) {
  const team = await createTeam(t, slug);
  const { token } = await issueToken(t, team);
  const hashes: string[] = [];
  for (const size of sizes) {
    const hash = randomHash();
    await putArtifact(t.server, token, hash, randomBytes(size)).expect(202);
    hashes.push(hash);
  }
  return { team, token, hashes };
}

const sorted = (hashes: string[]) => [...hashes].sort();

describe('retention sweeper', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp(ENV)));
  afterAll(() => t.close());

  const setPolicy = (team: string, body: object) =>
    request(t.server).patch(`/admin/teams/${team}/policy`).set(bearer(ADMIN_TOKEN)).send(body);

  it('deletes artifacts not accessed within RETENTION_DAYS (default 30), rows and blobs', async () => {
    const { team, token, hashes } = await seed(t, 'expiry', [100, 100, 100]);
    const [expired, recent, fresh] = hashes;
    await ageArtifact(t, team.id, expired, 31);
    await ageArtifact(t, team.id, recent, 29);

    const report = await sweep(t);

    expect(report.skipped).toBe(false);
    expect(report.expired).toMatchObject({ artifacts: 1, bytes: 100, blobFailures: 0 });
    expect(await storedHashes(t, team.id)).toEqual(sorted([recent, fresh]));
    expect(await blobExists(t, team.id, expired)).toBe(false);
    expect(await blobExists(t, team.id, recent)).toBe(true);
    await getArtifact(t.server, token, expired).expect(404);
    await getArtifact(t.server, token, recent).expect(200);
  });

  it("applies a team's own retention days over the default", async () => {
    const { team, hashes } = await seed(t, 'short-retention', [10, 10]);
    await setPolicy('short-retention', { retentionDays: 7 }).expect(200);
    await ageArtifact(t, team.id, hashes[0], 8);
    await ageArtifact(t, team.id, hashes[1], 6);

    await sweep(t);

    expect(await storedHashes(t, team.id)).toEqual([hashes[1]]);
    expect(await blobExists(t, team.id, hashes[0])).toBe(false);
  });

  it('evicts least recently used artifacts of a team over its quota until it fits', async () => {
    const { team, token, hashes } = await seed(t, 'over-quota', [300, 300, 300, 300, 300]);
    const [a1, a2, a3, a4, a5] = hashes;
    // a1 oldest ... a5 newest by last access; then a1 is read, so it is the most recent.
    for (const [i, hash] of hashes.entries()) await ageArtifact(t, team.id, hash, 5 - i);
    await getArtifact(t.server, token, a1).expect(200);
    await t.app.get(ArtifactAccessRecorder).flush();
    await setPolicy('over-quota', { quota: '1000' }).expect(200);

    const report = await sweep(t);

    // 1500 bytes stored, quota 1000: a2 and a3 go (1500 -> 1200 -> 900), nothing more.
    expect(report.evicted).toMatchObject({ artifacts: 2, bytes: 600, blobFailures: 0 });
    expect(await storedHashes(t, team.id)).toEqual(sorted([a1, a4, a5]));
    expect(await blobExists(t, team.id, a2)).toBe(false);
    expect(await blobExists(t, team.id, a3)).toBe(false);
    for (const kept of [a1, a4, a5]) expect(await blobExists(t, team.id, kept)).toBe(true);

    // Within quota now: a second sweep leaves it alone.
    expect((await sweep(t)).evicted.artifacts).toBe(0);
    expect(await storedHashes(t, team.id)).toEqual(sorted([a1, a4, a5]));
  });

  it('uses TEAM_QUOTA_BYTES unless the team says none', async () => {
    const other = await createTestApp({ ...ENV, TEAM_QUOTA_BYTES: '250' });
    try {
      const capped = await seed(other, 'capped', [100, 100, 100]);
      const free = await seed(other, 'free', [100, 100, 100]);
      await request(other.server)
        .patch('/admin/teams/free/policy')
        .set(bearer(ADMIN_TOKEN))
        .send({ quota: 'none' })
        .expect(200);
      for (const [i, hash] of capped.hashes.entries())
        await ageArtifact(other, capped.team.id, hash, 3 - i);

      const report = await sweep(other);

      expect(report.evicted.artifacts).toBe(1);
      expect(await storedHashes(other, capped.team.id)).toEqual(sorted(capped.hashes.slice(1)));
      expect(await storedHashes(other, free.team.id)).toEqual(sorted(free.hashes));
      // Status stays enabled under QUOTA_MODE=evict, even over quota.
      const status = await request(other.server)
        .get('/v8/artifacts/status')
        .set(bearer(capped.token));
      expect(status.body).toEqual({ status: 'enabled' });
    } finally {
      await other.close();
    }
  });

  it('skips the sweep while another process holds the sweep lock', async () => {
    const { team, hashes } = await seed(t, 'locked-out', [10]);
    await ageArtifact(t, team.id, hashes[0], 90);
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [SWEEP_LOCK_KEY]);
      const report = await sweep(t);
      expect(report).toMatchObject({ skipped: true, teams: 0 });
      expect(await storedHashes(t, team.id)).toEqual(hashes);
    } finally {
      await holder.end();
    }
    expect((await sweep(t)).skipped).toBe(false);
    expect(await storedHashes(t, team.id)).toEqual([]);
  });

  it('deletes the row even when the blob cannot be deleted, and does not throw', async () => {
    const { team, token, hashes } = await seed(t, 'stuck-blob', [10]);
    await ageArtifact(t, team.id, hashes[0], 90);
    // A non-empty directory where the blob file was: unlink fails (even as root).
    const blobPath = path.join(
      t.config.dataDir,
      'blobs',
      await currentBlobKey(t, team.id, hashes[0]),
    );
    fs.rmSync(blobPath);
    fs.mkdirSync(path.join(blobPath, 'x'), { recursive: true });

    const report = await sweep(t);

    expect(report.expired).toMatchObject({ artifacts: 1, blobFailures: 1 });
    expect(await storedHashes(t, team.id)).toEqual([]);
    await getArtifact(t.server, token, hashes[0]).expect(404);
  });

  it('runs in the background every RETENTION_SWEEP_INTERVAL_MS', async () => {
    const other = await createTestApp({ ...ENV, RETENTION_SWEEP_INTERVAL_MS: '200' });
    try {
      const { team, hashes } = await seed(other, 'background', [10, 10]);
      await ageArtifact(other, team.id, hashes[0], 31);
      await eventually(async () => {
        expect(await storedHashes(other, team.id)).toEqual([hashes[1]]);
      });
      expect(await blobExists(other, team.id, hashes[0])).toBe(false);
    } finally {
      await other.close();
    }
  });
});

describe('two sweepers on one database (two replicas)', () => {
  let dataDir: string;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // Both replicas share the database and the blob directory, as replicas share S3.
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-replicas-'));
    a = await createTestApp({ ...ENV, DATA_DIR: dataDir });
    b = await createTestApp({ ...ENV, DATA_DIR: dataDir }, { databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('never delete twice nor fail when they sweep at the same time', async () => {
    const old = await seed(a, 'replica-expiry', Array<number>(60).fill(50));
    const big = await seed(a, 'replica-quota', Array<number>(20).fill(100));
    for (const hash of old.hashes.slice(0, 40)) await ageArtifact(a, old.team.id, hash, 45);
    for (const [i, hash] of big.hashes.entries()) await ageArtifact(a, big.team.id, hash, 20 - i);
    await request(a.server)
      .patch('/admin/teams/replica-quota/policy')
      .set(bearer(ADMIN_TOKEN))
      .send({ quota: '1500' })
      .expect(200);

    const reports = await Promise.all([sweep(a), sweep(b), sweep(a), sweep(b)]);

    const total = (pick: (r: (typeof reports)[number]) => number) =>
      reports.reduce((sum, r) => sum + pick(r), 0);
    expect(reports.some((r) => !r.skipped)).toBe(true);
    expect(total((r) => r.expired.artifacts)).toBe(40);
    expect(total((r) => r.evicted.artifacts)).toBe(5);
    expect(total((r) => r.expired.blobFailures + r.evicted.blobFailures)).toBe(0);
    expect(await storedHashes(a, old.team.id)).toEqual(sorted(old.hashes.slice(40)));
    expect(await storedHashes(a, big.team.id)).toEqual(sorted(big.hashes.slice(5)));
    for (const hash of old.hashes) {
      expect(await blobExists(a, old.team.id, hash)).toBe(old.hashes.indexOf(hash) >= 40);
    }
    for (const hash of big.hashes) {
      expect(await blobExists(b, big.team.id, hash)).toBe(big.hashes.indexOf(hash) >= 5);
    }
  });
});
