import type { Artifact } from './artifact.entity';

/** What GET and HEAD answer besides the bytes. */
export type ArtifactHeaders = Pick<Artifact, 'durationMs' | 'tag' | 'sha' | 'dirtyHash'>;

interface Entry {
  headers: ArtifactHeaders;
  /** The stored body (BlobStat.version) these headers were read beside. */
  version: string;
  cachedAt: number;
}

/**
 * Artifact metadata of recent hits, so a hit costs no database round trip. An entry answers only
 * for the very body it was read beside: a new upload (here or on another replica) replaces the
 * body and so its version, and the next hit reads the row again. Entries live at most `ttlMs`,
 * which bounds how long a concurrent re-upload elsewhere can leave a hit with the previous
 * upload's headers; at most `maxEntries` are kept (oldest first out).
 */
export class ArtifactMetadataCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by forget(): a read that began before it must not store what it read. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached headers of `key` when they were read beside this `version` of its body. */
  get(key: string, version: string): ArtifactHeaders | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.version !== version || this.now() - entry.cachedAt >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.headers;
  }

  /** A token to pass to set(): taken before reading the row. */
  begin(): number {
    return this.generation;
  }

  /** Keeps headers read beside `version`, unless a forget() happened since `begin()`. */
  set(key: string, version: string, headers: ArtifactHeaders, begun: number): void {
    if (begun !== this.generation) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    this.entries.set(key, { headers, version, cachedAt: this.now() });
  }

  /** Drops `key` (its row was just written) and voids reads in flight. */
  forget(key: string): void {
    this.generation += 1;
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
