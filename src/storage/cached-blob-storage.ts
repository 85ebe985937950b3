import type { Readable } from 'node:stream';
import {
  downloadOfBytes,
  StorageUnavailableError,
  type BlobDownload,
  type BlobStat,
  type BlobStorage,
} from './blob-storage';

export interface BlobCacheOptions {
  /** Memory for cached bodies, in bytes (least recently used out first); 0 turns caching off. */
  maxBytes: number;
  /** Larger bodies are never cached. */
  maxEntryBytes: number;
  /** How long a cached body is served without asking storage whether it is still the same. */
  recheckMs: number;
}

/** Keys found absent are remembered too (for recheckMs), up to this many. */
const MAX_ABSENT_KEYS = 10_000;

export const DEFAULT_BLOB_CACHE: BlobCacheOptions = {
  maxBytes: 32 * 1024 * 1024,
  maxEntryBytes: 256 * 1024,
  recheckMs: 1_000,
};

interface Entry {
  version: string;
  bytes: Buffer;
  checkedAt: number;
}

/**
 * Small bodies kept in memory in front of a storage adapter. A CI fleet asks for the same few
 * thousand small artifacts over and over; serving them from memory saves a file open, read and
 * close (or an S3 GET) per hit. Coherence:
 * - put and delete through this process forget the key at once, and a read that began before
 *   them never stores what it read;
 * - a body replaced or deleted elsewhere (another replica, by hand) is noticed at the first
 *   request after `recheckMs`, when one cheap stat confirms the version or drops the entry;
 * - bytes and version always come from one read, so a body is never paired with another's version.
 * A key storage had nothing under is remembered the same way, so a burst of misses for one hash
 * (a CI matrix starting at once) asks storage once a second, not once a request.
 */
export class CachedBlobStorage implements BlobStorage {
  private readonly entries = new Map<string, Entry>();
  /** Keys storage had nothing under, and when it said so. */
  private readonly absent = new Map<string, number>();
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

  async put(key: string, body: Readable, expectedBytes: number): Promise<void> {
    this.forget(key);
    try {
      await this.inner.put(key, body, expectedBytes);
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

  async stat(key: string): Promise<BlobStat | null> {
    if (this.knownAbsent(key)) return null;
    const entry = await this.current(key);
    if (entry !== undefined) return { size: entry.bytes.length, version: entry.version };
    const begun = this.generation;
    const stat = await this.inner.stat(key);
    if (!stat) this.rememberAbsent(key, begun);
    return stat;
  }

  async get(key: string): Promise<BlobDownload | null> {
    if (this.knownAbsent(key)) return null;
    const cached = await this.current(key);
    if (cached !== undefined) return downloadOfBytes(cached.bytes, cached.version);
    const begun = this.generation;
    const blob = await this.inner.get(key);
    if (!blob) this.rememberAbsent(key, begun);
    if (!blob || blob.size > this.options.maxEntryBytes || this.options.maxBytes === 0) {
      return blob;
    }
    // Small S3 bodies are read whole here: a storage failure then comes before any byte is
    // sent, as a clean 503, instead of cutting a response off.
    const bytes = blob.bytes ?? (await readWhole(blob.stream, blob.size));
    const entry: Entry = { version: blob.version, bytes, checkedAt: this.now() };
    if (begun === this.generation) this.remember(key, entry);
    return downloadOfBytes(entry.bytes, entry.version);
  }

  /** The cached entry of `key`, confirmed with storage if it was last confirmed too long ago. */
  private async current(key: string): Promise<Entry | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Most recently used last: eviction takes from the front.
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.now() - entry.checkedAt < this.options.recheckMs) return entry;
    const begun = this.generation;
    const stat = await this.inner.stat(key);
    if (stat?.version === entry.version && begun === this.generation) {
      entry.checkedAt = this.now();
      return entry;
    }
    if (this.entries.get(key) === entry) this.drop(key, entry);
    if (!stat) this.rememberAbsent(key, begun);
    return undefined;
  }

  /** Whether storage said, less than recheckMs ago, that it has nothing under `key`. */
  private knownAbsent(key: string): boolean {
    const checkedAt = this.absent.get(key);
    if (checkedAt === undefined) return false;
    if (this.now() - checkedAt < this.options.recheckMs) return true;
    this.absent.delete(key);
    return false;
  }

  private rememberAbsent(key: string, begun: number): void {
    if (begun !== this.generation || this.options.maxBytes === 0) return;
    this.absent.delete(key);
    if (this.absent.size >= MAX_ABSENT_KEYS) {
      this.absent.delete(this.absent.keys().next().value as string);
    }
    this.absent.set(key, this.now());
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
    this.absent.delete(key);
    const entry = this.entries.get(key);
    if (entry) this.drop(key, entry);
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes.length;
  }

  /** Cached bodies, their total size and the keys remembered absent, for tests and metrics. */
  get usage(): { entries: number; bytes: number; absent: number } {
    return { entries: this.entries.size, bytes: this.bytes, absent: this.absent.size };
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
