import { KeyFilter } from './key-filter';

describe('KeyFilter', () => {
  const keys = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}/${i}`);

  it('always has every key added', () => {
    const filter = new KeyFilter(10_000);
    for (const key of keys(10_000, 'team_a/added')) filter.add(key);
    expect(keys(10_000, 'team_a/added').every((key) => filter.has(key))).toBe(true);
  });

  it('answers about 1% of other keys wrongly when sized for what was added', () => {
    const filter = new KeyFilter(10_000);
    for (const key of keys(10_000, 'team_a/added')) filter.add(key);
    const wrong = keys(10_000, 'team_a/other').filter((key) => filter.has(key)).length;
    expect(wrong).toBeLessThan(300);
  });

  it('an empty filter has nothing', () => {
    expect(new KeyFilter(0).has('team_a/abc')).toBe(false);
  });
});
