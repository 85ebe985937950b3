import type { Artifact } from './artifact.entity';

/** What GET and HEAD answer besides the bytes. */
export type ArtifactHeaders = Pick<Artifact, 'durationMs' | 'tag' | 'sha' | 'dirtyHash'>;

/**
 * An artifact's row as a read needs it: the key of the one stored body it serves, that body's
 * size and the headers uploaded with it. Key and headers come from one row, so they always
 * belong to the same upload.
 */
export interface CurrentArtifact {
  /** The namespace of the row (trust/artifact-space.ts): '' trusted, else an overlay's scope. */
  namespace: string;
  blobKey: string;
  size: number;
  headers: ArtifactHeaders;
}

/** When a read began, and the generation it began in. */
export interface ReadToken {
  generation: number;
  at: number;
}

interface Entry {
  /** null: the row did not exist when read. */
  current: CurrentArtifact | null;
  readAt: number;
}

/**
 * The artifact rows (and absences) of recent lookups, so that a hit or a repeated miss costs no
 * database round trip. An entry is the whole row a reader needs, never a part of one, so it can
 * only ever pair a body with that body's own headers. It is trusted for `ttlMs`: this is the
 * bound on how long another process's upload, replacement or deletion stays unseen here (see
 * docs/consistency.md). A change made through this process forgets the key at once,
 * and a read that began before it never stores what it read. Nothing here ever deletes a row
 * or a body: an entry only answers reads.
 */
export class ArtifactIndexCache {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by forget(): a read that began before it must not store what it read. */
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The remembered row of `key` (null: known absent), or undefined when unknown or too old. */
  get(key: string): CurrentArtifact | null | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.readAt >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.current;
  }

  /** A token to pass to set(), taken before reading the row: the entry's age counts from here. */
  begin(): ReadToken {
    return { generation: this.generation, at: this.now() };
  }

  /** Remembers what a read found, unless a forget() happened since `begun`. */
  set(key: string, current: CurrentArtifact | null, begun: ReadToken): void {
    if (this.ttlMs <= 0 || begun.generation !== this.generation) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
    }
    // Aged from when the read began: a slow read does not stretch the staleness bound.
    this.entries.set(key, { current, readAt: begun.at });
  }

  /** Drops `key` (its row changed) and voids reads in flight. */
  forget(key: string): void {
    this.generation += 1;
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
