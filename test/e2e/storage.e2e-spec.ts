import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BlobSizeMismatchError,
  BlobStorage,
  BlobTooLargeError,
  InvalidBlobKeyError,
} from '../../src/storage/blob-storage';
import { CachedBlobStorage } from '../../src/storage/cached-blob-storage';
import { FsStorage } from '../../src/storage/fs-storage';
import { S3Storage } from '../../src/storage/s3-storage';
import { digestOf, digestStream, GeneratedBody } from '../support/blob-bodies';
import { startS3Server } from '../support/s3-server';
import { sleep } from '../support/wait';

const MiB = 1024 * 1024;
/** Above S3Storage's default 8 MiB part size: two parts then a short one. */
const MULTIPART = 20 * MiB + 123;

interface Adapter {
  storage: BlobStorage;
  /** Upload leftovers that a failed put must not leave (fs temp files). */
  leftovers(): string[];
  /**
   * Sizes of the four racing bodies. fs: different sizes of several chunks each (an in-place
   * writer would mix them). s3: s3rver itself writes objects in place, so only bodies of one
   * size small enough to arrive in one write make its last-writer-wins whole.
   */
  racingSizes: number[];
  teardown(): Promise<void>;
}

async function fsAdapter(): Promise<Adapter> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-blobs-'));
  const storage = new FsStorage(path.join(dir, 'blobs'));
  return {
    storage,
    leftovers: () => (fs.existsSync(storage.tempDir) ? fs.readdirSync(storage.tempDir) : []),
    racingSizes: [3 * MiB, 3 * MiB + 70_001, 2 * MiB + 5, 4 * MiB - 1],
    teardown: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

async function s3Adapter(): Promise<Adapter> {
  // s3rver answers AbortMultipartUpload with 405: the adapter's warning about it is expected.
  Logger.overrideLogger(false);
  const s3 = await startS3Server();
  const storage = new S3Storage(s3.config);
  await storage.onModuleInit();
  return {
    storage,
    leftovers: () => [],
    racingSizes: [4096, 4096, 4096, 4096],
    teardown: async () => {
      storage.onModuleDestroy();
      await s3.close();
    },
  };
}

/** The adapter as the app uses it, with small bodies kept in memory (CachedBlobStorage). */
function cached(open: () => Promise<Adapter>): () => Promise<Adapter> {
  return async () => {
    const adapter = await open();
    return { ...adapter, storage: new CachedBlobStorage(adapter.storage) };
  };
}

let nextTeam = 0;
/** A fresh key per test, so tests never see each other's objects. */
const newKey = () => `team_${process.pid}x${++nextTeam}/${'ab12'.repeat(8)}`;

describe.each([
  ['FsStorage', fsAdapter],
  ['S3Storage (s3rver)', s3Adapter],
  ['CachedBlobStorage over FsStorage', cached(fsAdapter)],
  ['CachedBlobStorage over S3Storage (s3rver)', cached(s3Adapter)],
])('%s honours the storage contract', (_name, open) => {
  let adapter: Adapter;
  let storage: BlobStorage;
  beforeAll(async () => {
    adapter = await open();
    storage = adapter.storage;
  });
  afterAll(() => adapter.teardown());

  async function expectStored(key: string, size: number, seed: number) {
    const stat = await storage.stat(key);
    expect(stat).toEqual({ size, version: expect.any(String) });
    const blob = await storage.get(key);
    expect(blob?.size).toBe(size);
    expect(blob?.version).toBe(stat?.version);
    expect(await digestStream(blob!.stream)).toEqual({ bytes: size, sha256: digestOf(size, seed) });
  }

  async function expectAbsent(key: string) {
    expect(await storage.stat(key)).toBeNull();
    expect(await storage.get(key)).toBeNull();
    expect(adapter.leftovers()).toEqual([]);
  }

  it('answers ping', async () => {
    await expect(storage.ping()).resolves.toBeUndefined();
  });

  it.each([
    ['a small body', 100_003],
    ['an empty body', 0],
    ['a multipart-sized body, streamed', MULTIPART],
  ])('round-trips the exact bytes of %s', async (_label, size) => {
    const key = newKey();
    await storage.put(key, new GeneratedBody(size, 1), size);
    await expectStored(key, size, 1);
  });

  it.each([
    ['a small body', 100_003],
    ['an empty body', 0],
    ['a multipart-sized body', MULTIPART],
  ])(
    'stores %s of unannounced length (chunked), with its counted size and sha256',
    async (_l, size) => {
      const key = newKey();
      const stored = await storage.put(key, new GeneratedBody(size, 5), { atMost: MULTIPART + 1 });
      expect(stored).toEqual({ size, sha256: digestOf(size, 5) });
      await expectStored(key, size, 5);
    },
  );

  it('cuts a body of unannounced length past its limit, leaving nothing visible', async () => {
    const key = newKey();
    const put = storage.put(key, new GeneratedBody(MULTIPART, 6), { atMost: 10 * MiB });
    await expect(put).rejects.toBeInstanceOf(BlobTooLargeError);
    await expectAbsent(key);
  });

  it("lists a team's keys with sizes, and the teams that have keys", async () => {
    const key = newKey();
    await storage.put(key, new GeneratedBody(321, 7), 321);
    const teamId = key.split('/')[0];
    const listed = [];
    for await (const blob of storage.listTeamBlobs(teamId)) listed.push(blob);
    expect(listed).toEqual([{ key, size: 321, modifiedAt: expect.any(Date) }]);
    expect(await storage.listTeams()).toContain(teamId);
  });

  it('names each stored body by a version that changes when the body is replaced', async () => {
    const key = newKey();
    await storage.put(key, new GeneratedBody(1000, 3), 1000);
    const first = (await storage.stat(key))!.version;
    expect((await storage.stat(key))!.version).toBe(first);
    // Same size, other bytes: an upload of one hash with a different body.
    await storage.put(key, new GeneratedBody(1000, 4), 1000);
    const second = await storage.get(key);
    expect(second!.version).not.toBe(first);
    second!.stream.destroy();
  });

  it('answers null from get and stat for an absent key', async () => {
    await expectAbsent(newKey());
  });

  it('deletes, and deleting an absent key is not an error', async () => {
    const key = newKey();
    await storage.put(key, new GeneratedBody(1000, 2), 1000);
    await storage.delete(key);
    await expectAbsent(key);
    await expect(storage.delete(key)).resolves.toBeUndefined();
  });

  it('replaces an existing object with a new whole body', async () => {
    const key = newKey();
    await storage.put(key, new GeneratedBody(5000, 3), 5000);
    await storage.put(key, new GeneratedBody(7000, 4), 7000);
    await expectStored(key, 7000, 4);
  });

  describe.each([
    ['small', 100_000],
    ['multipart-sized', 12 * MiB + 5],
  ])('with a %s body', (_label, size) => {
    it('rejects a short body and makes nothing visible', async () => {
      const key = newKey();
      const put = storage.put(key, new GeneratedBody(size - 1000, 5), size);
      await expect(put).rejects.toBeInstanceOf(BlobSizeMismatchError);
      await expectAbsent(key);
    });

    it('rejects a long body as soon as it is longer, without reading it to its end', async () => {
      const key = newKey();
      const body = new GeneratedBody(size + 64 * MiB, 6);
      await expect(storage.put(key, body, size)).rejects.toBeInstanceOf(BlobSizeMismatchError);
      expect(body.pulled).toBeLessThan(size + MiB);
      expect(body.destroyed).toBe(true);
      await expectAbsent(key);
    });

    it.each([
      ['with an error', new Error('client went away')],
      ['without an error', undefined],
    ])('rejects promptly when the body is destroyed halfway %s', async (_how, cause) => {
      const key = newKey();
      const body = new GeneratedBody(size, 7, Math.floor(size * 0.75));
      const put = storage.put(key, body, size);
      put.catch(() => undefined);
      await waitFor(() => body.pulled === Math.floor(size * 0.75));
      const destroyedAt = Date.now();
      body.destroy(cause);
      await expect(put).rejects.toThrow(cause?.message ?? /premature close/i);
      expect(Date.now() - destroyedAt).toBeLessThan(1_000);
      await expectAbsent(key);
    });

    it('keeps the older whole body when a replacement fails', async () => {
      const key = newKey();
      await storage.put(key, new GeneratedBody(3000, 8), 3000);
      await expect(storage.put(key, new GeneratedBody(size - 1, 9), size)).rejects.toThrow();
      await expectStored(key, 3000, 8);
    });
  });

  it('leaves exactly one of four concurrent bodies under one key', async () => {
    const key = newKey();
    const sizes = adapter.racingSizes;
    await Promise.all(
      sizes.map((size, i) => storage.put(key, new GeneratedBody(size, 20 + i), size)),
    );
    const blob = await storage.get(key);
    const { bytes, sha256 } = await digestStream(blob!.stream);
    const winners = sizes.filter((size, i) => size === bytes && digestOf(size, 20 + i) === sha256);
    expect(winners).toHaveLength(1);
    expect(blob!.size).toBe(bytes);
    expect(adapter.leftovers()).toEqual([]);
  });

  it.each([
    '../escape/abcdef',
    '/etc/passwd',
    'team_a/../../abc',
    'team_a/abc/def',
    'team_a/abc.tmp',
    'team_a/xyz',
    'team_a/',
    'team_a/abc\n',
    'team_a\\abc',
    'other_a/abc',
    `team_a/${'a'.repeat(129)}`,
    '',
  ])('rejects the key %j in every method', async (key) => {
    const body = new GeneratedBody(10, 10);
    await expect(storage.put(key, body, 10)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    expect(body.pulled).toBe(0);
    await expect(storage.get(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(storage.stat(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
    await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidBlobKeyError);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(5);
  }
}
