interface Entry<V> {
  value: Promise<V>;
  loadedAt: number;
  /** Set once `value` fulfilled, for peek(). */
  settled?: { value: V };
}

/**
 * A small in-process cache of lookups: entries live at most `ttlMs`, at most `maxEntries` are
 * kept (the oldest go first), and concurrent misses of one key share a single load. A failed
 * load is not cached.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value when younger than `maxAgeMs` (and the TTL), else a fresh `load()`. */
  get(key: K, load: () => Promise<V>, maxAgeMs = this.ttlMs): Promise<V> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.loadedAt < Math.min(maxAgeMs, this.ttlMs)) return entry.value;
    if (entry) this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as K);
    }
    const fresh: Entry<V> = { value: load(), loadedAt: this.now() };
    this.entries.set(key, fresh);
    fresh.value.then(
      (value) => (fresh.settled = { value }),
      () => {
        if (this.entries.get(key) === fresh) this.entries.delete(key);
      },
    );
    return fresh.value;
  }

  /** The loaded value of `key` when it is fresh, without waiting or loading; else undefined. */
  peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry?.settled || this.now() - entry.loadedAt >= this.ttlMs) return undefined;
    return entry.settled.value;
  }

  /** Drops `key`: the next get() loads it anew. */
  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
