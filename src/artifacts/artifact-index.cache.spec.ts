import { ArtifactIndexCache, CurrentArtifact } from './artifact-index.cache';

const current = (version: string): CurrentArtifact => ({
  namespace: '',
  blobKey: `team_a/abc.${version}`,
  size: 10,
  headers: { durationMs: 5, tag: `tag-${version}`, sha: null, dirtyHash: null },
});

describe('ArtifactIndexCache', () => {
  let now = 0;
  const cache = (ttl = 1_000, max = 10) => new ArtifactIndexCache(ttl, max, () => now);
  beforeEach(() => (now = 0));

  it('answers a remembered row, key and headers together, within the TTL', () => {
    const c = cache();
    c.set('t/h', current('v1'), c.begin());
    now = 999;
    expect(c.get('t/h')).toEqual(current('v1'));
  });

  it('remembers absence as null, distinct from unknown', () => {
    const c = cache();
    c.set('t/h', null, c.begin());
    expect(c.get('t/h')).toBeNull();
    expect(c.get('t/other')).toBeUndefined();
  });

  it('ages an entry from when its read began, so a slow read does not stretch the bound', () => {
    const c = cache();
    const begun = c.begin();
    now = 400;
    c.set('t/h', null, begun);
    now = 999;
    expect(c.get('t/h')).toBeNull();
    now = 1_000;
    expect(c.get('t/h')).toBeUndefined();
  });

  it('forgets an entry once the TTL has passed (the staleness bound)', () => {
    const c = cache();
    c.set('t/h', null, c.begin());
    now = 1_000;
    expect(c.get('t/h')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('never stores a read that began before a forget', () => {
    const c = cache();
    const begun = c.begin();
    c.forget('t/h');
    c.set('t/h', current('old'), begun);
    expect(c.get('t/h')).toBeUndefined();
  });

  it('forget drops the key at once', () => {
    const c = cache();
    c.set('t/h', current('v1'), c.begin());
    c.forget('t/h');
    expect(c.get('t/h')).toBeUndefined();
  });

  it('keeps at most maxEntries, oldest out first', () => {
    const c = cache(1_000, 2);
    c.set('a', null, c.begin());
    c.set('b', null, c.begin());
    c.set('c', null, c.begin());
    expect(c.get('a')).toBeUndefined();
    expect(c.get('b')).toBeNull();
    expect(c.get('c')).toBeNull();
  });

  it('a TTL of 0 remembers nothing', () => {
    const c = cache(0);
    c.set('t/h', current('v1'), c.begin());
    expect(c.get('t/h')).toBeUndefined();
  });
});
