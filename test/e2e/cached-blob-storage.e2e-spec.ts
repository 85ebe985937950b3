import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { type BlobDownload, StorageUnavailableError } from '../../src/storage/blob-storage';
import { CachedBlobStorage } from '../../src/storage/cached-blob-storage';
import { FsStorage } from '../../src/storage/fs-storage';
import { digestOf, digestStream, GeneratedBody } from '../support/blob-bodies';

const KEY = 'team_cache/00aa';
const OTHER = 'team_cache/00bb';
/** A key of one upload (blob-keys.ts): its bytes never change. */
const VERSIONED = 'team_cache/00aa.0123456789abcdef01234567';

/** A stored body's bytes, from `bytes` or its stream. */
async function bodyOf(blob: BlobDownload | null) {
  if (!blob) return null;
  return blob.bytes ? blob.bytes.length : (await digestStream(blob.stream)).bytes;
}

describe('CachedBlobStorage over a real FsStorage', () => {
  let dir: string;
  let inner: FsStorage;
  let clock: number;
  let storage: CachedBlobStorage;
  /** Writes a body straight to disk, as another replica sharing the directory would. */
  let behindItsBack: FsStorage;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-cached-'));
    inner = new FsStorage(path.join(dir, 'blobs'));
    behindItsBack = new FsStorage(path.join(dir, 'blobs'));
    clock = 0;
    storage = new CachedBlobStorage(
      inner,
      { maxBytes: 10_000, maxEntryBytes: 4_000, recheckMs: 1_000 },
      () => clock,
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves a small body from memory, and notices a deletion elsewhere after recheckMs', async () => {
    await storage.put(KEY, new GeneratedBody(3_000, 1), 3_000);
    const first = await storage.get(KEY);
    expect(first!.bytes!.equals((await readBack(KEY))!)).toBe(true);
    await behindItsBack.delete(KEY);

    clock = 999;
    expect(await bodyOf(await storage.get(KEY))).toBe(3_000);
    expect(await storage.stat(KEY)).toEqual({ size: 3_000, version: first!.version });
    clock = 1_000;
    expect(await storage.get(KEY)).toBeNull();
    expect(storage.usage).toEqual({ entries: 0, bytes: 0 });
  });

  it('serves a versioned key (written once) from memory without asking storage again', async () => {
    await storage.put(VERSIONED, new GeneratedBody(3_000, 9), 3_000);
    await storage.get(VERSIONED);
    const stat = jest.spyOn(inner, 'stat');
    clock = 60_000;
    expect(await bodyOf(await storage.get(VERSIONED))).toBe(3_000);
    expect(stat).not.toHaveBeenCalled();
    stat.mockRestore();
  });

  it('never remembers absence: a body stored elsewhere shows at once', async () => {
    expect(await storage.get(KEY)).toBeNull();
    expect(await storage.stat(KEY)).toBeNull();
    // Stored elsewhere (another replica): every null comes from storage itself.
    await behindItsBack.put(KEY, new GeneratedBody(1_000, 6), 1_000);
    expect(await bodyOf(await storage.get(KEY))).toBe(1_000);
    expect(await storage.stat(OTHER)).toBeNull();
    await behindItsBack.put(OTHER, new GeneratedBody(2_000, 7), 2_000);
    expect((await storage.stat(OTHER))!.size).toBe(2_000);
  });

  it('notices a body replaced elsewhere after recheckMs, and never mixes the two', async () => {
    await storage.put(KEY, new GeneratedBody(3_000, 1), 3_000);
    const first = await storage.get(KEY);
    await behindItsBack.put(KEY, new GeneratedBody(2_000, 2), 2_000);
    clock = 500;
    expect((await storage.get(KEY))!.version).toBe(first!.version);
    clock = 1_500;
    const second = await storage.get(KEY);
    expect(second!.version).not.toBe(first!.version);
    expect(await digestStream(second!.stream)).toEqual({
      bytes: 2_000,
      sha256: digestOf(2_000, 2),
    });
    // Confirmed now: no stat again until another recheckMs has passed.
    await behindItsBack.delete(KEY);
    clock = 2_400;
    expect(await bodyOf(await storage.get(KEY))).toBe(2_000);
  });

  it('forgets at once what is put or deleted through it', async () => {
    await storage.put(KEY, new GeneratedBody(3_000, 1), 3_000);
    await storage.get(KEY);
    await storage.put(KEY, new GeneratedBody(1_000, 3), 1_000);
    expect(await digestStream((await storage.get(KEY))!.stream)).toEqual({
      bytes: 1_000,
      sha256: digestOf(1_000, 3),
    });
    await storage.delete(KEY);
    expect(await storage.get(KEY)).toBeNull();
    expect(await storage.stat(KEY)).toBeNull();
  });

  it('does not keep a body whose read began before a put through it', async () => {
    await storage.put(KEY, new GeneratedBody(3_000, 1), 3_000);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const get = inner.get.bind(inner);
    inner.get = async (key) => {
      const blob = await get(key);
      await held;
      return blob;
    };
    const slowRead = storage.get(KEY);
    inner.get = get;
    await storage.put(KEY, new GeneratedBody(1_000, 4), 1_000);
    release();
    expect((await slowRead)!.size).toBe(3_000);
    expect(storage.usage.entries).toBe(0);
    expect((await storage.get(KEY))!.size).toBe(1_000);
  });

  it('streams bodies over maxEntryBytes without keeping them', async () => {
    await storage.put(KEY, new GeneratedBody(5_000, 5), 5_000);
    const blob = await storage.get(KEY);
    expect(await digestStream(blob!.stream)).toEqual({ bytes: 5_000, sha256: digestOf(5_000, 5) });
    expect(storage.usage.entries).toBe(0);
  });

  it('stays within maxBytes, dropping the least recently used body first', async () => {
    await storage.put(KEY, new GeneratedBody(4_000, 1), 4_000);
    await storage.put(OTHER, new GeneratedBody(4_000, 2), 4_000);
    await storage.get(KEY);
    await storage.get(OTHER);
    await storage.get(KEY);
    const third = 'team_cache/00cc';
    await storage.put(third, new GeneratedBody(4_000, 3), 4_000);
    await storage.get(third);
    expect(storage.usage).toEqual({ entries: 2, bytes: 8_000 });
    // OTHER was least recently used: gone from memory, so a deletion behind our back shows.
    await behindItsBack.delete(OTHER);
    await behindItsBack.delete(KEY);
    expect(await storage.get(OTHER)).toBeNull();
    expect(await bodyOf(await storage.get(KEY))).toBe(4_000);
  });

  it('keeps nothing with maxBytes 0 (MEMORY_CACHE_BYTES=0)', async () => {
    const off = new CachedBlobStorage(inner, {
      maxBytes: 0,
      maxEntryBytes: 4_000,
      recheckMs: 1_000,
    });
    await off.put(KEY, new GeneratedBody(3_000, 1), 3_000);
    expect(await bodyOf(await off.get(KEY))).toBe(3_000);
    expect(off.usage).toEqual({ entries: 0, bytes: 0 });
    await behindItsBack.delete(KEY);
    expect(await off.get(KEY)).toBeNull();
    await behindItsBack.put(KEY, new GeneratedBody(1_000, 2), 1_000);
    expect(await bodyOf(await off.get(KEY))).toBe(1_000);
  });

  it.each([
    ['short', 500],
    ['long', 1_500],
  ])('rejects a %s body from storage as unavailable, keeping nothing', async (_, sent) => {
    await storage.put(KEY, new GeneratedBody(1_000, 8), 1_000);
    const get = inner.get.bind(inner);
    // What an S3 answer cut short (or overlong) looks like: streamed, not read whole by the adapter.
    inner.get = async (key) => {
      const blob = await get(key);
      return (
        blob && { size: 1_000, version: blob.version, stream: Readable.from([Buffer.alloc(sent)]) }
      );
    };
    try {
      await expect(storage.get(KEY)).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(storage.usage.entries).toBe(0);
    } finally {
      inner.get = get;
    }
    expect(await bodyOf(await storage.get(KEY))).toBe(1_000);
  });

  async function readBack(key: string) {
    const blob = await inner.get(key);
    return blob?.bytes ?? null;
  }
});
