import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import request from 'supertest';
import { getArtifact, putArtifact, sha256 } from '../support/artifacts';
import {
  memoryAfterGc,
  openDescriptors,
  runPool,
  seededRandom,
  vanishMidDownload,
  vanishMidHeaders,
  vanishMidUpload,
} from '../support/chaos-clients';
import { listeningPort } from '../support/ports';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { eventually } from '../support/wait';

const MiB = 1024 * 1024;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);

interface Scenario {
  name: string;
  env: () => Promise<{ env: Record<string, string>; s3?: TestS3Server }>;
  iterations: number;
  /** Descriptors that may stay open after the storm (pooled keep-alive sockets to s3rver). */
  descriptorSlack: number;
}

const scenarios: Scenario[] = [
  { name: 'fs', env: async () => ({ env: {} }), iterations: 300, descriptorSlack: 2 },
  {
    name: 's3',
    env: async () => {
      const s3 = await startS3Server();
      return { env: s3.env, s3 };
    },
    iterations: 120,
    // s3rver runs in this process: each pooled connection to it is two descriptors.
    descriptorSlack: 24,
  },
];

describe.each(scenarios)(
  'clients vanishing at random points ($name storage)',
  ({ env, iterations, descriptorSlack }) => {
    let t: TestApp;
    let s3: TestS3Server | undefined;
    let port: number;
    let token: string;
    const seeds = new Map<string, string>();
    const hashOf = (i: number) =>
      createHash('sha256').update(`chaos-${i}`).digest('hex').slice(0, 16);

    beforeAll(async () => {
      Logger.overrideLogger(false);
      const setup = await env();
      s3 = setup.s3;
      t = await createTestApp({ ...setup.env, LOG_LEVEL: 'silent' });
      port = await listeningPort(t.server);
      token = (await issueToken(t, await createTeam(t, 'acme'))).token;
      for (let i = 0; i < 4; i += 1) {
        const body = Buffer.alloc((i + 1) * MiB + i * 777, i + 1);
        await putArtifact(t.server, token, `5eed${i}`, body).expect(202);
        seeds.set(`5eed${i}`, sha256(body));
      }
    });
    afterAll(async () => {
      await t.close();
      await s3?.close();
    });

    it(`leaks no descriptor, temp file, partial object or memory (seed ${SEED})`, async () => {
      const random = seededRandom(SEED);
      const storm = async (count: number, offset: number) =>
        runPool(count, 8, async (i) => {
          const kind = random.int(10);
          if (kind < 5) {
            const declared = 1 + random.int(3 * MiB);
            await vanishMidUpload(
              port,
              token,
              hashOf(offset + i),
              declared,
              random.int(declared),
              random.int(20),
            );
          } else if (kind < 9) {
            const seed = `5eed${random.int(4)}`;
            await vanishMidDownload(port, token, seed, random.int(4 * MiB));
          } else {
            const head = `PUT /v8/artifacts/${hashOf(offset + i)} HTTP/1.1\r\nAuthorization: Bea`;
            await vanishMidHeaders(port, head.slice(0, random.int(head.length)));
          }
        });

      // A first round fills the pools (database, keep-alive) to their working size.
      await storm(40, 100_000);
      await eventually(async () => expect(leftovers()).toEqual([]));
      const before = { descriptors: openDescriptors(), ...memoryAfterGc() };

      await storm(iterations, 0);

      await eventually(async () => {
        expect(leftovers()).toEqual([]);
        expect(openDescriptors()).toBeLessThanOrEqual(before.descriptors + descriptorSlack);
      }, 10_000);
      const after = memoryAfterGc();
      expect(after.heapUsed - before.heapUsed).toBeLessThan(32 * MiB);
      expect(after.rss - before.rss).toBeLessThan(192 * MiB);

      // Nothing of an abandoned upload is visible, and every whole artifact is still whole.
      const abandoned = Array.from({ length: iterations }, (_, i) => hashOf(i));
      const query = await request(t.server)
        .post('/v8/artifacts')
        .set(bearer(token))
        .send({ hashes: abandoned })
        .expect(200);
      expect(Object.values(query.body).filter((v) => v !== null)).toEqual([]);
      const rows = await t.dataSource.query('SELECT hash FROM artifacts ORDER BY hash');
      expect(rows.map((r: { hash: string }) => r.hash)).toEqual([...seeds.keys()]);
      for (const [hash, digest] of seeds) {
        const res = await getArtifact(t.server, token, hash).expect(200);
        expect(sha256(res.body)).toBe(digest);
      }
    });

    /** Upload leftovers: fs temp files (S3 multipart uploads cannot be listed on s3rver). */
    function leftovers(): string[] {
      if (t.config.storage.driver !== 'fs') return [];
      const dir = `${t.config.storage.root}/.tmp`;
      return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
    }
  },
);
