import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import request from 'supertest';
import { getArtifact, putArtifact, sha256 } from '../support/artifacts';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

const KiB = 1024;

/** A body of `size` bytes that no other (seed, size) produces. */
function bodyOf(seed: string, size: number): Buffer {
  const block = createHash('sha256').update(seed).digest();
  const body = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += block.length) block.copy(body, offset);
  body.writeUInt32BE(size, 0);
  return body;
}

interface Storage {
  name: string;
  start(): Promise<{ env: Record<string, string>; s3?: TestS3Server }>;
  /**
   * fs: the writers of one hash send different bodies of different sizes; any whole one may
   * win, none may mix; readers read the hashes being written. s3rver writes objects in place,
   * not atomically (unlike S3 and MinIO): a read during a write of the same key stalls until
   * s3rver drops the connection (then the download is cut, never served short) and a HEAD may
   * see a partial size. So on s3 the writers of one hash send equal bodies (what turbo sends for
   * one hash anyway) and readers read other, settled hashes while the writes go on.
   */
  differentBodies: boolean;
}

const STORAGES: Storage[] = [
  { name: 'fs', start: async () => ({ env: {} }), differentBodies: true },
  {
    name: 's3',
    start: async () => {
      const s3 = await startS3Server();
      return { env: s3.env, s3 };
    },
    differentBodies: false,
  },
];

describe.each(STORAGES)('concurrent writers and readers ($name storage)', (storage) => {
  let t: TestApp;
  let s3: TestS3Server | undefined;
  let token: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    const setup = await storage.start();
    s3 = setup.s3;
    t = await createTestApp(setup.env);
    token = (await issueToken(t, await createTeam(t, 'acme'))).token;
  });
  afterAll(async () => {
    await t.close();
    await s3?.close();
  });

  /** The bodies the writers of `hash` send, keyed by sha256. */
  function writerBodies(hash: string, writers: number): Map<string, Buffer> {
    const bodies = new Map<string, Buffer>();
    for (let w = 0; w < writers; w += 1) {
      const body = storage.differentBodies
        ? bodyOf(`${hash}/${w}`, 300 * KiB + w * 97 * KiB + w)
        : bodyOf(hash, 400 * KiB);
      bodies.set(sha256(body), body);
    }
    return bodies;
  }

  /**
   * Writers PUT every body of each hash `rounds` times while readers GET and HEAD the same
   * hashes; every 200 must be a whole body that some writer sent, with its own length.
   */
  async function race(hashes: string[], writers: number, readers: number, rounds: number) {
    const bodies = new Map(hashes.map((hash) => [hash, writerBodies(hash, writers)]));
    // On s3 readers read settled hashes (see Storage.differentBodies), written once before.
    const readHashes = storage.differentBodies
      ? hashes
      : hashes.map((h) => `${h.slice(0, -4)}5e77`);
    if (!storage.differentBodies) {
      for (const hash of readHashes) {
        bodies.set(hash, writerBodies(hash, 1));
        await putArtifact(t.server, token, hash, [...bodies.get(hash)!.values()][0]).expect(202);
      }
    }
    const seen = { reads: 0, misses: 0, cut: 0, foreign: [] as string[] };
    let writing = true;
    const write = async () => {
      for (let round = 0; round < rounds; round += 1) {
        await Promise.all(
          hashes.flatMap((hash) =>
            [...bodies.get(hash)!.values()].map((body) =>
              putArtifact(t.server, token, hash, body).expect(202),
            ),
          ),
        );
      }
      writing = false;
    };
    const read = async (reader: number) => {
      for (let i = reader; writing; i += 1) {
        const hash = readHashes[i % readHashes.length];
        // A transfer the server cut would be a failed read, never a wrong one; none is expected.
        const res = await getArtifact(t.server, token, hash).catch(() => null);
        if (res === null) {
          seen.cut += 1;
          continue;
        }
        if (res.status === 404) {
          seen.misses += 1;
          continue;
        }
        expect(res.status).toBe(200);
        seen.reads += 1;
        const digest = sha256(res.body);
        if (
          !bodies.get(hash)!.has(digest) ||
          Number(res.headers['content-length']) !== res.body.length
        ) {
          seen.foreign.push(`${hash}: ${res.body.length} bytes, sha256 ${digest}`);
        }
        const head = await request(t.server).head(`/v8/artifacts/${hash}`).set(bearer(token));
        const sizes = [...bodies.get(hash)!.values()].map((b) => String(b.length));
        if (head.status === 200) expect(sizes).toContain(head.headers['content-length']);
      }
    };
    await Promise.all([write(), ...Array.from({ length: readers }, (_, r) => read(r))]);
    expect(seen.foreign).toEqual([]);
    expect(seen.reads).toBeGreaterThan(0);
    expect(seen.cut).toBe(0);
    for (const hash of hashes) {
      const res = await getArtifact(t.server, token, hash).expect(200);
      expect(bodies.get(hash)!.has(sha256(res.body))).toBe(true);
    }
    return seen;
  }

  it('serves only whole bodies while 8 writers race on one hash', async () => {
    await race(['0123abcd0123abcd'], 8, 4, 4);
  });

  it('serves only whole bodies while writers race on 16 hashes at once', async () => {
    const hashes = Array.from({ length: 16 }, (_, i) => `beef${i.toString(16).padStart(12, '0')}`);
    await race(hashes, 3, 4, 2);
  });
});
