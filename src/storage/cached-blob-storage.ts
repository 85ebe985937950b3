import type { Readable } from 'node:stream';
import {
  downloadOfBytes,
  StorageUnavailableError,
  type BlobDownload,
  type BlobStat,
  type BlobStorage,
  type ExpectedLength,
  type ListedBlob,
} from './blob-storage';
import { parseBlobKey } from './blob-keys';
import type { StoredBody } from './measured-body';

export interface BlobCacheOptions {
  /** Memory for cached bodies, in bytes (least recently used out first); 0 turns caching off. */
  maxBytes: number;
  /** Larger bodies are never cached. */
  maxEntryBytes: number;
  /** How long a cached body is served without asking storage whether it is still the same. */
  recheckMs: number;
}

export const DEFAULT_BLOB_CACHE: BlobCacheOptions = {
  maxBytes: 32 * 1024 * 1024,
  maxEntryBytes: 256 * 1024,
  recheckMs: 1_000,
};

interface Entry {
  version: string;
  bytes: Buffer;
  checkedAt: number;
  /** A versioned key (blob-keys.ts) is written once: its bytes never need confirming. */
  immutable: boolean;
}

/**
 * Small bodies kept in memory in front of a storage adapter. A CI fleet asks for the same few
 * thousand small artifacts over and over; serving them from memory saves a file open, read and
 * close (or an S3 GET) per hit. Coherence:
 * - a versioned key (`<team>/<hash>.<version>`) names one upload's bytes for good, so its entry
 *   is served until evicted; whether the artifact still exists is the caller's question (its
 *   row), never answered here;
 * - an unversioned key (the layout before versions) can be rewritten in place, so its entry is
 *   confirmed with one cheap stat when older than `recheckMs`;
 * - put and delete through this process forget the key at once, and a read that began before
 *   them never stores what it read.
 * Absence is never remembered: every null this returns comes from storage itself, so callers
 * may treat it as evidence that a body is gone.
 */
export class CachedBlobStorage implements BlobStorage {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  /** Bumped by every put and delete: reads that began before must not store what they read. */
  private generation = 0;

  constructor(
    private readonly inner: BlobStorage,
    private readonly options: BlobCacheOptions = DEFAULT_BLOB_CACHE,
    private readonly now: () => number = Date.now,
  ) {}

  get driver(): BlobStorage['driver'] {
    return this.inner.driver;
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  async put(key: string, body: Readable, expected: ExpectedLength): Promise<StoredBody> {
    this.forget(key);
    try {
      return await this.inner.put(key, body, expected);
    } finally {
      this.forget(key);
    }
  }

  async delete(key: string): Promise<void> {
    this.forget(key);
    try {
      await this.inner.delete(key);
    } finally {
      this.forget(key);
    }
  }

  sweepStaleUploads(olderThanMinutes: number): Promise<number> {
    return this.inner.sweepStaleUploads(olderThanMinutes);
  }

  listTeams(): Promise<string[]> {
    return this.inner.listTeams();
  }

  listTeamBlobs(teamId: string): AsyncIterable<ListedBlob> {
    return this.inner.listTeamBlobs(teamId);
  }

  async stat(key: string): Promise<BlobStat | null> {
    const entry = await this.current(key);
    if (entry !== undefined) return { size: entry.bytes.length, version: entry.version };
    return this.inner.stat(key);
  }

  async get(key: string): Promise<BlobDownload | null> {
    const cached = await this.current(key);
    if (cached !== undefined) return downloadOfBytes(cached.bytes, cached.version);
    const begun = this.generation;
    const blob = await this.inner.get(key);
    if (!blob || blob.size > this.options.maxEntryBytes || this.options.maxBytes === 0) {
      return blob;
    }
    // Small S3 bodies are read whole here: a storage failure then comes before any byte is
    // sent, as a clean 503, instead of cutting a response off.
    const bytes = blob.bytes ?? (await readWhole(blob.stream, blob.size));
    const entry: Entry = {
      version: blob.version,
      bytes,
      checkedAt: this.now(),
      immutable: parseBlobKey(key)?.version != null,
    };
    if (begun === this.generation) this.remember(key, entry);
    return downloadOfBytes(entry.bytes, entry.version);
  }

  /** The cached entry of `key`, confirmed with storage if it can change and was last confirmed too long ago. */
  private async current(key: string): Promise<Entry | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Most recently used last: eviction takes from the front.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (entry.immutable || this.now() - entry.checkedAt < this.options.recheckMs) return entry;
    const begun = this.generation;
    const stat = await this.inner.stat(key);
    if (stat?.version === entry.version && begun === this.generation) {
      entry.checkedAt = this.now();
      return entry;
    }
    if (this.entries.get(key) === entry) this.drop(key, entry);
    return undefined;
  }

  private remember(key: string, entry: Entry): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, entry);
    this.bytes += entry.bytes.length;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.bytes <= this.options.maxBytes) break;
      this.drop(oldestKey, oldest);
    }
  }

  private forget(key: string): void {
    this.generation += 1;
    const entry = this.entries.get(key);
    if (entry) this.drop(key, entry);
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes.length;
  }

  /** Cached bodies and their total size, for tests and metrics. */
  get usage(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

/** Exactly `size` bytes of `stream`; anything else is an error. */
async function readWhole(stream: Readable, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (offset + chunk.length > size) {
      stream.destroy();
      throw new StorageUnavailableError(`storage sent more than the ${size} bytes it announced`);
    }
    chunk.copy(bytes, offset);
    offset += chunk.length;
  }
  if (offset !== size) {
    throw new StorageUnavailableError(`storage sent ${offset} of the ${size} bytes it announced`);
  }
  return bytes;
}
