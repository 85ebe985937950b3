import { clientBreakdown, dailySeries, hitRate, periodTotals } from './stats-math';

const period = { from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-04T00:00:00Z') };

describe('hitRate', () => {
  it.each([
    [0, 0, null],
    [1, 0, 1],
    [0, 3, 0],
    [3, 1, 0.75],
    [2, 1, 0.6667],
    [1, 2, 0.3333],
  ])('hits %d, misses %d -> %j', (hits, misses, rate) => {
    expect(hitRate(hits, misses)).toBe(rate);
  });
});

describe('dailySeries and periodTotals', () => {
  const days = dailySeries(
    period,
    [
      {
        day: '2025-01-01',
        remoteHits: 3,
        remoteMisses: 1,
        localHits: 1,
        localMisses: 0,
        timeSavedMs: 900,
      },
      {
        day: '2025-01-03',
        remoteHits: 0,
        remoteMisses: 2,
        localHits: 0,
        localMisses: 4,
        timeSavedMs: 0,
      },
    ],
    [
      { day: '2025-01-01', uploads: 2, bytes: 300 },
      { day: '2025-01-02', uploads: 1, bytes: 50 },
    ],
    1000,
  );

  it('has one entry per day, zeros where nothing happened', () => {
    expect(days.map((d) => d.date)).toEqual(['2025-01-01', '2025-01-02', '2025-01-03']);
    expect(days[1]).toEqual({
      date: '2025-01-02',
      remoteHits: 0,
      remoteMisses: 0,
      hitRate: null,
      localHits: 0,
      localMisses: 0,
      timeSavedMs: 0,
      uploads: 1,
      uploadedBytes: 50,
      storedBytes: 1350,
    });
  });

  it('computes each day’s hit rate and the stored bytes so far', () => {
    expect(days.map((d) => d.hitRate)).toEqual([0.75, null, 0]);
    expect(days.map((d) => d.storedBytes)).toEqual([1300, 1350, 1350]);
  });

  it('sums the days into the period totals', () => {
    expect(periodTotals(days)).toEqual({
      remote: { hits: 3, misses: 3, hitRate: 0.5, timeSavedMs: 900 },
      local: { hits: 1, misses: 4, hitRate: 0.2 },
      uploads: { count: 3, bytes: 350 },
    });
  });

  it('gives empty totals for a quiet period', () => {
    expect(periodTotals(dailySeries(period, [], [], 0))).toEqual({
      remote: { hits: 0, misses: 0, hitRate: null, timeSavedMs: 0 },
      local: { hits: 0, misses: 0, hitRate: null },
      uploads: { count: 0, bytes: 0 },
    });
  });
});

describe('clientBreakdown', () => {
  const usage = (sessions: number, remoteHits: number) => ({
    sessions,
    remoteHits,
    remoteMisses: 1,
    localHits: 0,
    localMisses: 0,
  });

  it('splits CI from interactive clients and sums the CI systems', () => {
    const result = clientBreakdown(
      [
        { clientCi: null, ...usage(4, 10) },
        { clientCi: 'circleci', ...usage(1, 2) },
        { clientCi: 'github-actions', ...usage(2, 5) },
      ],
      [
        { clientCi: 'github-actions', uploads: 3 },
        { clientCi: null, uploads: 1 },
        { clientCi: 'buildkite', uploads: 1 },
      ],
    );
    expect(result.interactive).toEqual({ ...usage(4, 10), uploads: 1 });
    expect(result.ci).toEqual({
      sessions: 3,
      remoteHits: 7,
      remoteMisses: 2,
      localHits: 0,
      localMisses: 0,
      uploads: 4,
    });
    expect(result.byCi.map((c) => [c.name, c.remoteHits, c.uploads])).toEqual([
      ['github-actions', 5, 3],
      ['circleci', 2, 0],
      ['buildkite', 0, 1],
    ]);
  });

  it('is all zeros without activity', () => {
    const result = clientBreakdown([], []);
    expect(result.byCi).toEqual([]);
    expect(result.ci).toEqual(result.interactive);
    expect(Object.values(result.ci).every((n) => n === 0)).toBe(true);
  });
});
