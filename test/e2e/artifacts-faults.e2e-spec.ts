import { Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import request from 'supertest';
import { BLOB_STORAGE, type BlobStorage } from '../../src/storage/blob-storage';
import { getArtifact, putArtifact, randomHash, sha256 } from '../support/artifacts';
import { startScratchPostgres } from '../support/postgres-server';
import { listeningPort } from '../support/ports';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { currentBlobKey } from '../support/usage';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

const MiB = 1024 * 1024;

/** A PUT that sends the first half of `body`, then the rest when told. */
function twoStepPut(port: number, token: string, hash: string, body: Buffer) {
  let sendRest = () => {};
  let firstHalfSent = () => {};
  const halfSent = new Promise<void>((resolve) => (firstHalfSent = resolve));
  const outcome = new Promise<number | 'cut'>((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/v8/artifacts/${hash}`,
        headers: { Authorization: `Bearer ${token}`, 'Content-Length': body.length },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve('cut'));
    const half = Math.floor(body.length / 2);
    req.write(body.subarray(0, half), () => firstHalfSent());
    sendRest = () => req.end(body.subarray(half));
  });
  return { halfSent, outcome, sendRest: () => sendRest() };
}

/** A GET that reads the first bytes, then waits to be told to read on; reports what arrived. */
function pausedGet(port: number, token: string, hash: string) {
  let resume = () => {};
  let started = () => {};
  const firstBytes = new Promise<void>((resolve) => (started = resolve));
  const result = new Promise<{ bytes: number; complete: boolean; sha256: string }>((resolve) => {
    const digest = createHash('sha256');
    let bytes = 0;
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/v8/artifacts/${hash}`,
        headers: { Authorization: `Bearer ${token}` },
      },
      (res) => {
        const finish = () =>
          resolve({ bytes, complete: res.complete, sha256: digest.digest('hex') });
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          digest.update(chunk);
        });
        res.once('data', () => {
          res.pause();
          resume = () => res.resume();
          started();
        });
        res.on('end', finish);
        res.on('error', () => undefined);
        res.on('close', finish);
      },
    );
    req.on('error', () => undefined);
  });
  return { firstBytes, result, resume: () => resume() };
}

describe('S3 stopping in the middle of a transfer', () => {
  let t: TestApp;
  let s3: TestS3Server;
  let port: number;
  let token: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    s3 = await startS3Server();
    t = await createTestApp(s3.env);
    port = await listeningPort(t.server);
    token = (await issueToken(t, await createTeam(t, 'acme'))).token;
  });
  afterAll(async () => {
    await t.close();
    await s3.close();
  });

  it('fails an upload under way (503 or a cut connection), shows nothing of it, then takes it again', async () => {
    const hash = randomHash();
    const body = randomBytes(24 * MiB);
    const upload = twoStepPut(port, token, hash, body);
    await upload.halfSent;
    await s3.stop();
    upload.sendRest();
    const outcome = await upload.outcome;
    expect([503, 'cut']).toContain(outcome);

    await s3.restart();
    await getArtifact(t.server, token, hash).expect(404);
    await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token)).expect(404);
    const query = await request(t.server)
      .post('/v8/artifacts')
      .set(bearer(token))
      .send({ hashes: [hash] });
    expect(query.body).toEqual({ [hash]: null });

    await putArtifact(t.server, token, hash, body).expect(202);
    const res = await getArtifact(t.server, token, hash).expect(200);
    expect(sha256(res.body)).toBe(sha256(body));
  });

  it('aborts a download under way (never a short body that looks whole), then serves it whole', async () => {
    const hash = randomHash();
    const body = randomBytes(32 * MiB);
    await putArtifact(t.server, token, hash, body).expect(202);

    const download = pausedGet(port, token, hash);
    await download.firstBytes;
    await s3.stop();
    download.resume();
    const cut = await download.result;
    expect(cut.complete).toBe(false);
    expect(cut.bytes).toBeLessThan(body.length);

    await s3.restart();
    const whole = await getArtifact(t.server, token, hash).expect(200);
    expect(sha256(whole.body)).toBe(sha256(body));
  });
});

describe('a blob lost from S3 under its metadata', () => {
  it('is a miss on HEAD as on GET, the metadata is repaired, and a new upload serves again', async () => {
    Logger.overrideLogger(false);
    const s3 = await startS3Server();
    const t = await createTestApp(s3.env);
    try {
      const team = await createTeam(t, 'acme');
      const token = (await issueToken(t, team)).token;
      const hash = randomHash();
      const body = randomBytes(10_000);
      await putArtifact(t.server, token, hash, body).expect(202);
      await t.app.get<BlobStorage>(BLOB_STORAGE).delete(await currentBlobKey(t, team.id, hash));

      await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token)).expect(404);
      await eventually(async () =>
        expect(await t.dataSource.query('SELECT 1 FROM artifacts WHERE hash = $1', [hash])).toEqual(
          [],
        ),
      );
      const query = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .send({ hashes: [hash] });
      expect(query.body).toEqual({ [hash]: null });
      await getArtifact(t.server, token, hash).expect(404);

      await putArtifact(t.server, token, hash, body).expect(202);
      const res = await getArtifact(t.server, token, hash).expect(200);
      expect(sha256(res.body)).toBe(sha256(body));
    } finally {
      await t.close();
      await s3.close();
    }
  });
});

describe('PostgreSQL stopping in the middle of traffic', () => {
  it('answers only successes, 404s or 503s meanwhile, every body whole, and recovers by itself', async () => {
    Logger.overrideLogger(false);
    const pg = await startScratchPostgres();
    const t = await createTestApp({}, { adminUrl: pg.adminUrl });
    try {
      const token = (await issueToken(t, await createTeam(t, 'acme'))).token;
      const sent = new Map<string, string>();
      const uploaded = new Set<string>();
      const statuses = new Map<number, number>();
      const problems: string[] = [];
      const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const expectShape = (res: request.Response) => {
        if (res.status >= 400 && !(res.body?.code && res.body?.error?.code)) {
          problems.push(`${res.status} without the error shape: ${res.text}`);
        }
      };

      let running = true;
      const worker = async (id: number) => {
        for (let i = 0; running; i += 1) {
          const known = [...sent.keys()];
          if (i % 3 === 0 || known.length === 0) {
            const hash = randomHash();
            const body = randomBytes(20_000 + id * 1_000 + i);
            sent.set(hash, sha256(body));
            const res = await putArtifact(t.server, token, hash, body);
            count(res.status);
            expectShape(res);
            if (res.status === 202) uploaded.add(hash);
          } else {
            const hash = known[i % known.length];
            const res = await getArtifact(t.server, token, hash);
            count(res.status);
            if (res.status === 200 && sha256(res.body) !== sent.get(hash)) {
              problems.push(`GET ${hash} served bytes that were never uploaded`);
            }
            if (res.status !== 200) expectShape({ ...res, body: parse(res.body) } as never);
          }
        }
      };
      const workers = Promise.all([0, 1, 2, 3].map(worker));
      await sleep(800);
      await pg.cluster.stop();
      await sleep(4_000);
      await pg.cluster.start(true);
      await eventually(async () => {
        const res = await putArtifact(t.server, token, randomHash(), randomBytes(100));
        expect(res.status).toBe(202);
      }, 20_000);
      await sleep(500);
      running = false;
      await workers;

      expect(problems).toEqual([]);
      expect([...statuses.keys()].filter((s) => ![200, 202, 404, 503].includes(s))).toEqual([]);
      expect(statuses.get(503)).toBeGreaterThan(0);
      // Everything acknowledged is there, whole; anything else is absent or whole.
      for (const [hash, digest] of sent) {
        const res = await getArtifact(t.server, token, hash);
        if (uploaded.has(hash)) expect(res.status).toBe(200);
        if (res.status === 200) expect(sha256(res.body)).toBe(digest);
        else expect(res.status).toBe(404);
      }
    } finally {
      await t.close();
      await pg.stop();
    }
  });
});

function parse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString());
  } catch {
    return undefined;
  }
}
