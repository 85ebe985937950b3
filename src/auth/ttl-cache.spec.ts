import { TtlCache } from './ttl-cache';

describe('TtlCache', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 1_000));

  it('serves a value until it is ttlMs old, then loads it again', async () => {
    const cache = new TtlCache<string, number>(5_000, 10, now);
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get('a', load)).toBe(1);
    clock += 4_999;
    expect(await cache.get('a', load)).toBe(1);
    clock += 1;
    expect(await cache.get('a', load)).toBe(2);
  });

  it('peeks only at loaded, fresh values', async () => {
    const cache = new TtlCache<string, number>(5_000, 10, now);
    let release!: (value: number) => void;
    const loading = cache.get('a', () => new Promise<number>((resolve) => (release = resolve)));
    expect(cache.peek('a')).toBeUndefined();
    release(7);
    await loading;
    expect(cache.peek('a')).toBe(7);
    clock += 5_000;
    expect(cache.peek('a')).toBeUndefined();
    await expect(cache.get('b', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(cache.peek('b')).toBeUndefined();
  });

  it('honours a shorter maxAgeMs for one call', async () => {
    const cache = new TtlCache<string, number>(5_000, 10, now);
    let loads = 0;
    const load = async () => ++loads;
    await cache.get('a', load);
    clock += 1_000;
    expect(await cache.get('a', load, 2_000)).toBe(1);
    expect(await cache.get('a', load, 1_000)).toBe(2);
  });

  it('shares one load between concurrent misses', async () => {
    const cache = new TtlCache<string, string>(5_000, 10, now);
    let loads = 0;
    const load = () =>
      new Promise<string>((resolve) => setTimeout(() => resolve(`v${++loads}`), 5));
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).toEqual(['v1', 'v1']);
    expect(loads).toBe(1);
  });

  it('caches null results (an unknown key) like any other value', async () => {
    const cache = new TtlCache<string, null>(5_000, 10, now);
    const load = jest.fn(async () => null);
    await cache.get('x', load);
    await cache.get('x', load);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load', async () => {
    const cache = new TtlCache<string, number>(5_000, 10, now);
    await expect(cache.get('a', () => Promise.reject(new Error('db down')))).rejects.toThrow(
      'db down',
    );
    expect(await cache.get('a', async () => 7)).toBe(7);
  });

  it('keeps at most maxEntries, dropping the oldest first', async () => {
    const cache = new TtlCache<number, number>(5_000, 3, now);
    for (let i = 0; i < 5; i++) await cache.get(i, async () => i);
    expect(cache.size).toBe(3);
    const reload = jest.fn(async () => -1);
    expect(await cache.get(4, reload)).toBe(4);
    expect(await cache.get(0, reload)).toBe(-1);
  });
});
