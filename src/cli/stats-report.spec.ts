import type { TeamStats } from '../stats/stats.service';
import { formatDuration, formatRate, formatStatsReport, table } from './stats-report';

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [250, '250ms'],
    [12_345, '12s'],
    [245_000, '4m 05s'],
    [3_723_000, '1h 02m 03s'],
    [90_000_000, '25h 00m 00s'],
  ])('%d ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatRate', () => {
  it('shows a percentage, or - without lookups', () => {
    expect(formatRate(0.6667)).toBe('66.7%');
    expect(formatRate(null)).toBe('-');
  });
});

describe('table', () => {
  it('aligns the first column left and the others right', () => {
    expect(
      table(
        ['name', 'n'],
        [
          ['a', '1'],
          ['longer', '100'],
        ],
      ),
    ).toEqual(['name      n', 'a         1', 'longer  100']);
  });
});

describe('formatStatsReport', () => {
  const usage = {
    sessions: 1,
    remoteHits: 2,
    remoteMisses: 1,
    localHits: 0,
    localMisses: 1,
    uploads: 1,
  };
  const stats: TeamStats = {
    team: { id: 'team_abc', slug: 'acme', name: 'Acme' },
    period: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-31T00:00:00.000Z' },
    storage: { artifacts: 4, bytes: 4200 },
    uploads: { count: 3, bytes: 3500 },
    remote: { hits: 3, misses: 2, hitRate: 0.6, timeSavedMs: 3_200 },
    local: { hits: 2, misses: 1, hitRate: 0.6667 },
    sessions: 2,
    topArtifacts: [
      { hash: 'aaaa', hits: 2, timeSavedMs: 2_400, size: 1000 },
      { hash: 'bbbb', hits: 1, timeSavedMs: 800, size: null },
    ],
    clients: {
      ci: usage,
      interactive: { ...usage, remoteHits: 1 },
      byCi: [{ name: 'github-actions', ...usage }],
    },
    daily: [],
    tools: {
      turbo: {
        countedBy: 'client-events',
        hits: 3,
        misses: 2,
        hitRate: 0.6,
        timeSavedMs: 3_200,
        uploads: 2,
        refusedUploads: null,
        storage: { artifacts: 3, bytes: 3200 },
      },
      nx: {
        countedBy: 'server',
        hits: 2,
        misses: 1,
        hitRate: 0.6667,
        timeSavedMs: null,
        uploads: 1,
        refusedUploads: 2,
        storage: { artifacts: 1, bytes: 1000 },
      },
    },
  };

  it('prints the summary, the top artifacts and the clients', () => {
    const report = formatStatsReport(stats);
    expect(report).toContain(
      'Team acme (team_abc), 2025-01-01T00:00:00.000Z to 2025-01-31T00:00:00.000Z',
    );
    expect(report).toMatch(/^stored now +4 artifacts, 4\.1 KiB$/m);
    expect(report).toMatch(/^remote hits \/ misses +3 \/ 2$/m);
    expect(report).toMatch(/^remote hit rate +60\.0%$/m);
    expect(report).toMatch(/^time saved +3s$/m);
    expect(report).toMatch(/^aaaa +2 +2s +1000 B$/m);
    expect(report).toMatch(/^bbbb +1 +800ms +gone$/m);
    expect(report).toMatch(/^ci: github-actions +1 +2 +1 +0 +1$/m);
    expect(report.endsWith('\n')).toBe(true);
  });

  it('splits the usage by tool, with - where a tool does not report a number', () => {
    const report = formatStatsReport(stats);
    const section = report.slice(report.indexOf('By tool\n'), report.indexOf('Top artifacts'));
    expect(section.split('\n').slice(1, 4)).toEqual([
      expect.stringMatching(/^tool +hits +misses +hit rate +time saved +uploads +refused +stored$/),
      expect.stringMatching(/^turbo +3 +2 +60\.0% +3s +2 +- +3 \(3\.1 KiB\)$/),
      expect.stringMatching(/^nx +2 +1 +66\.7% +- +1 +2 +1 \(1000 B\)$/),
    ]);
    expect(section).toContain('nx: counted by the server');
  });

  it('says so when nothing was hit', () => {
    expect(formatStatsReport({ ...stats, topArtifacts: [] })).toContain('  none in this period');
  });
});
