import { artifactPeriodTotals } from './artifact-period';
import type { ArtifactDayRow } from './artifact-stats.repository';
import { planRead } from './stats-read-plan';

const NOW = new Date('2025-03-15T12:00:00Z');
const context = { now: NOW, rawKeptFrom: null };
const row = (
  day: string,
  clientCi: string,
  tool: 'turbo' | 'nx',
  artifacts: number,
  bytes: number,
): ArtifactDayRow => ({ day, clientCi, tool, artifacts, bytes });

describe('artifactPeriodTotals', () => {
  const stored = [
    row('2025-02-20', '', 'turbo', 2, 200),
    row('2025-03-01', '', 'turbo', 3, 300),
    row('2025-03-01', 'github-actions', 'nx', 1, 50),
    row('2025-03-10', 'github-actions', 'turbo', 4, 400),
  ];

  it('counts whole days from the day totals; storage is everything, storedBefore what came before', () => {
    const period = { from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-11T00:00:00Z') };
    const plan = planRead(period, context);
    const totals = artifactPeriodTotals(period, {
      stored,
      period: { plan, inside: [], outside: [] },
      before: null,
    });
    expect(totals).toEqual({
      stored: [
        { tool: 'turbo', artifacts: 9, bytes: 900 },
        { tool: 'nx', artifacts: 1, bytes: 50 },
      ],
      storedBefore: 200,
      daily: [
        { day: '2025-03-01', uploads: 4, bytes: 350 },
        { day: '2025-03-10', uploads: 4, bytes: 400 },
      ],
      clients: [
        { clientCi: null, uploads: 3 },
        { clientCi: 'github-actions', uploads: 5 },
      ],
      tools: [
        { tool: 'turbo', uploads: 7 },
        { tool: 'nx', uploads: 1 },
      ],
    });
  });

  it('takes the outside of a partial first day off its total, and counts it before the period', () => {
    // From 2025-03-01T03:00: the 3 h before are cheaper to read than the 21 h inside.
    const period = { from: new Date('2025-03-01T03:00:00Z'), to: new Date('2025-03-11T00:00:00Z') };
    const plan = planRead(period, context);
    expect(plan.subtract).toHaveLength(1);
    const early = [row('2025-03-01', '', 'turbo', 1, 100)];
    const beforePeriod = { from: new Date('2025-03-01T00:00:00Z'), to: period.from };
    const beforePlan = planRead(beforePeriod, context);
    expect(beforePlan.raw).toHaveLength(1);
    const totals = artifactPeriodTotals(period, {
      stored,
      period: { plan, inside: [], outside: early },
      before: { plan: beforePlan, inside: early, outside: [] },
    });
    expect(totals.storedBefore).toBe(300);
    expect(totals.daily[0]).toEqual({ day: '2025-03-01', uploads: 3, bytes: 250 });
    expect(totals.clients).toEqual([
      { clientCi: null, uploads: 2 },
      { clientCi: 'github-actions', uploads: 5 },
    ]);
  });
});
