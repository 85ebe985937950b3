import { ArtifactHeaders, ArtifactMetadataCache } from './artifact-metadata.cache';

const headers = (tag: string): ArtifactHeaders => ({
  durationMs: 1,
  tag,
  sha: null,
  dirtyHash: null,
});

describe('ArtifactMetadataCache', () => {
  let now = 0;
  const cache = (ttl = 1_000, max = 10) => new ArtifactMetadataCache(ttl, max, () => now);
  beforeEach(() => (now = 0));

  it('answers only for the body version the headers were read beside', () => {
    const c = cache();
    c.set('k', 'v1', headers('a'), c.begin());
    expect(c.get('k', 'v1')).toEqual(headers('a'));
    expect(c.get('k', 'v2')).toBeUndefined();
    // A mismatch drops the entry: the old body is gone.
    expect(c.get('k', 'v1')).toBeUndefined();
  });

  it('forgets entries after the TTL', () => {
    const c = cache(1_000);
    c.set('k', 'v', headers('a'), c.begin());
    now = 999;
    expect(c.get('k', 'v')).toBeDefined();
    now = 1_000;
    expect(c.get('k', 'v')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const c = cache(1_000, 3);
    for (const key of ['a', 'b', 'c', 'd']) c.set(key, 'v', headers(key), c.begin());
    expect(c.size).toBe(3);
    expect(c.get('a', 'v')).toBeUndefined();
    expect(c.get('d', 'v')).toEqual(headers('d'));
  });

  it('does not keep a read that began before a forget', () => {
    const c = cache();
    const begun = c.begin();
    c.forget('k');
    c.set('k', 'v', headers('stale'), begun);
    expect(c.get('k', 'v')).toBeUndefined();
    c.set('k', 'v', headers('fresh'), c.begin());
    expect(c.get('k', 'v')).toEqual(headers('fresh'));
  });
});
