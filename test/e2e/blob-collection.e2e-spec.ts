import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { Client } from 'pg';
import { ArtifactVerifier } from '../../src/artifacts/artifact-verifier';
import { BlobCollector } from '../../src/artifacts/blob-collector';
import { RetentionSweeper } from '../../src/retention/retention-sweeper';
import { BLOB_ADAPTER, BLOB_STORAGE, type BlobStorage } from '../../src/storage/blob-storage';
import { artifactBlobKey, newBlobVersion } from '../../src/storage/blob-keys';
import type { Team } from '../../src/teams/team.entity';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import type { TestS3Server } from '../support/s3-server';
import { runCliAsync } from '../support/server-process';
import { createTeam, issueToken } from '../support/teams';
import { createTestAppOn, TEST_JWT_SECRET, TestApp } from '../support/test-app';
import { currentBlobKey, storedBlobKeys } from '../support/usage';
import { sleep } from '../support/wait';

/** REQUEST_TIMEOUT_MS of these apps: the grace of the collection is twice that. */
const REQUEST_TIMEOUT_MS = 1_500;
const GRACE_MS = 2 * REQUEST_TIMEOUT_MS;

describe.each(['fs', 's3'] as const)('blob collection and verify on %s storage', (driver) => {
  let t: TestApp & { s3?: TestS3Server };
  let team: Team;
  let token: string;
  let storage: BlobStorage;
  let collector: BlobCollector;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    t = await createTestAppOn(driver, {
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      RETENTION_SWEEP_INTERVAL_MS: '0',
    });
    team = await createTeam(t, 'acme');
    token = (await issueToken(t, team)).token;
    storage = t.app.get<BlobStorage>(BLOB_STORAGE);
    collector = t.app.get(BlobCollector);
  });
  afterAll(() => t.close());

  const upload = (hash: string, body: Buffer) =>
    putArtifact(t.server, token, hash, body).expect(202);
  const keysOf = async (hash: string) =>
    (await storedBlobKeys(t, team.id)).filter((key) => key.startsWith(`${team.id}/${hash}`));

  it('keeps a replaced upload for the grace period, then deletes it; the current one stays', async () => {
    const hash = randomHash();
    await upload(hash, randomBytes(100));
    const first = await currentBlobKey(t, team.id, hash);
    const second = randomBytes(200);
    await upload(hash, second);
    const current = await currentBlobKey(t, team.id, hash);
    expect(await keysOf(hash)).toEqual([first, current].sort());

    expect((await collector.collect()).superseded).toBe(0);
    expect(await keysOf(hash)).toEqual([first, current].sort());
    await t.dataSource.query(
      `UPDATE blob_garbage SET since = now() - interval '1 hour' WHERE blob_key = $1`,
      [first],
    );
    expect((await collector.collect()).superseded).toBe(1);
    expect(await keysOf(hash)).toEqual([current]);
    expect(
      await t.dataSource.query('SELECT 1 FROM blob_garbage WHERE blob_key = $1', [first]),
    ).toEqual([]);
    expect((await getArtifact(t.server, token, hash).expect(200)).body).toEqual(second);
  });

  it('runs as part of the retention sweep, under its lock', async () => {
    const hash = randomHash();
    await upload(hash, randomBytes(100));
    const first = await currentBlobKey(t, team.id, hash);
    await upload(hash, randomBytes(120));
    await t.dataSource.query(
      `UPDATE blob_garbage SET since = now() - interval '1 hour' WHERE blob_key = $1`,
      [first],
    );
    const report = await t.app.get(RetentionSweeper).sweep();
    expect(report.skipped).toBe(false);
    expect(report.collected).toMatchObject({ superseded: 1, failures: 0 });
    expect(await keysOf(hash)).toEqual([await currentBlobKey(t, team.id, hash)]);
  });

  it('deletes an orphan (no row names it) once older than the grace, not before', async () => {
    const orphan = artifactBlobKey(team.id, randomHash(), newBlobVersion());
    const legacyOrphan = artifactBlobKey(team.id, randomHash(), null);
    for (const key of [orphan, legacyOrphan])
      await storage.put(key, Readable.from([randomBytes(50)]), 50);
    const kept = randomHash();
    await upload(kept, randomBytes(10));

    expect((await collector.collect()).orphans).toBe(0);
    expect(await storedBlobKeys(t, team.id)).toEqual(
      expect.arrayContaining([orphan, legacyOrphan]),
    );
    await sleep(GRACE_MS + 500);
    expect((await collector.collect()).orphans).toBe(2);
    const left = await storedBlobKeys(t, team.id);
    expect(left).not.toContain(orphan);
    expect(left).not.toContain(legacyOrphan);
    expect(left).toContain(await currentBlobKey(t, team.id, kept));
    await getArtifact(t.server, token, kept).expect(200);
  });

  it('never collects an upload in flight: stored, its commit waiting, during a collection', async () => {
    const hash = randomHash();
    const body = randomBytes(5_000);
    // Hold the per-artifact commit lock, as a slow commit would.
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
        `${team.id}/${hash}`,
      ]);
      const put = upload(hash, body);
      const pending = put.then(() => undefined);
      for (let i = 0; (await keysOf(hash)).length === 0; i++) {
        if (i > 100) throw new Error('the upload never stored its body');
        await sleep(20);
      }
      const report = await collector.collect();
      expect(report.orphans).toBe(0);
      expect(await keysOf(hash)).toHaveLength(1);
      await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
        `${team.id}/${hash}`,
      ]);
      await pending;
    } finally {
      await holder.end();
    }
    expect((await getArtifact(t.server, token, hash).expect(200)).body).toEqual(body);
  });

  it('refuses with 503 an upload whose commit comes after the deadline, and keeps nothing', async () => {
    const hash = randomHash();
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
        `${team.id}/${hash}`,
      ]);
      const put = putArtifact(t.server, token, hash, randomBytes(1_000)).then((res) => res);
      for (let i = 0; (await keysOf(hash)).length === 0; i++) {
        if (i > 100) throw new Error('the upload never stored its body');
        await sleep(20);
      }
      await sleep(REQUEST_TIMEOUT_MS + 200);
      await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
        `${team.id}/${hash}`,
      ]);
      const res = await put;
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('unavailable');
    } finally {
      await holder.end();
    }
    expect(await t.dataSource.query('SELECT 1 FROM artifacts WHERE hash = $1', [hash])).toEqual([]);
    expect(await keysOf(hash)).toEqual([]);
  });

  it('drops the row of a blob deleted behind the server, which was already a miss', async () => {
    const hash = randomHash();
    await upload(hash, randomBytes(300));
    await t.app.get<BlobStorage>(BLOB_ADAPTER).delete(await currentBlobKey(t, team.id, hash));
    await getArtifact(t.server, token, hash).expect(404);
    const report = await collector.collect();
    // The read's own repair may have dropped it first; either way it is gone.
    expect(report.vanishedRows).toBeLessThanOrEqual(1);
    expect(await t.dataSource.query('SELECT 1 FROM artifacts WHERE hash = $1', [hash])).toEqual([]);
  });

  it('the sweep alone drops a row whose blob vanished, without any read', async () => {
    const hash = randomHash();
    await upload(hash, randomBytes(300));
    await t.app.get<BlobStorage>(BLOB_ADAPTER).delete(await currentBlobKey(t, team.id, hash));
    expect((await collector.collect()).vanishedRows).toBe(1);
    expect(await t.dataSource.query('SELECT 1 FROM artifacts WHERE hash = $1', [hash])).toEqual([]);
  });

  it('serves an artifact stored before versions from its old key, until a new upload replaces it', async () => {
    const hash = randomHash();
    const old = randomBytes(700);
    const legacyKey = artifactBlobKey(team.id, hash, null);
    await storage.put(legacyKey, Readable.from([old]), old.length);
    await t.dataSource.query(
      `INSERT INTO artifacts (team_id, hash, size, duration_ms, tag) VALUES ($1, $2, $3, 42, 'b2xk')`,
      [team.id, hash, old.length],
    );
    const res = await getArtifact(t.server, token, hash).expect(200);
    expect(res.body).toEqual(old);
    expect(res.headers['x-artifact-tag']).toBe('b2xk');
    expect(
      (await t.app.get(ArtifactVerifier).verify({ team: 'acme' })).unverifiable,
    ).toBeGreaterThanOrEqual(1);

    const next = randomBytes(900);
    await upload(hash, next);
    expect((await getArtifact(t.server, token, hash).expect(200)).body).toEqual(next);
    expect(
      await t.dataSource.query('SELECT 1 FROM blob_garbage WHERE blob_key = $1', [legacyKey]),
    ).toHaveLength(1);
    await t.dataSource.query(`UPDATE blob_garbage SET since = now() - interval '1 hour'`);
    await collector.collect();
    expect(await keysOf(hash)).toEqual([await currentBlobKey(t, team.id, hash)]);
  });

  it('artifacts verify finds a body changed in storage, and --repair turns it into a miss', async () => {
    const good = randomHash();
    const bad = randomHash();
    await upload(good, randomBytes(4_000));
    const original = randomBytes(4_000);
    await upload(bad, original);
    const key = await currentBlobKey(t, team.id, bad);
    await tamper(key, original);
    const verifier = t.app.get(ArtifactVerifier);

    const report = await verifier.verify({ team: 'acme' });
    expect(report.findings).toEqual([
      { team: team.id, hash: bad, blobKey: key, problem: 'digest', repaired: false },
    ]);
    expect(report.ok).toBeGreaterThanOrEqual(1);
    const repaired = await verifier.verify({ team: 'acme', repair: true });
    expect(repaired.findings).toEqual([
      { team: team.id, hash: bad, blobKey: key, problem: 'digest', repaired: true },
    ]);
    expect(await keysOf(bad)).toEqual([]);
    await sleep(1_100);
    await getArtifact(t.server, token, bad).expect(404);
    await getArtifact(t.server, token, good).expect(200);
    expect((await verifier.verify({ team: 'acme' })).findings).toEqual([]);
  });

  it('`teamcache artifacts verify` prints the report and exits 1 on a finding, 0 once repaired', async () => {
    const hash = randomHash();
    const body = randomBytes(2_000);
    await upload(hash, body);
    await tamper(await currentBlobKey(t, team.id, hash), body);
    const env = {
      ...(t.s3?.env ?? {}),
      DATABASE_URL: t.databaseUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: t.config.dataDir,
    };
    const found = await runCliAsync(['artifacts', 'verify', '--team', 'acme'], env);
    expect(found.status).toBe(1);
    expect(JSON.parse(found.stdout).findings).toMatchObject([
      { hash, problem: 'digest', repaired: false },
    ]);
    const fixed = await runCliAsync(['artifacts', 'verify', '--team', 'acme', '--repair'], env);
    expect(fixed.status).toBe(0);
    expect(JSON.parse(fixed.stdout).findings).toMatchObject([{ hash, repaired: true }]);
  });

  /** Changes one byte of a stored body in place, as bit rot or a hand in the bucket would. */
  async function tamper(key: string, original: Buffer): Promise<void> {
    const flipped = Buffer.from(original);
    flipped[flipped.length >> 1] ^= 0xff;
    if (driver === 'fs') {
      fs.writeFileSync(path.join(t.config.dataDir, 'blobs', key), flipped);
    } else {
      await t.app.get<BlobStorage>(BLOB_ADAPTER).put(key, Readable.from([flipped]), flipped.length);
    }
  }
});
