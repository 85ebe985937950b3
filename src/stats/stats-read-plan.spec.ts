import { costUpTo, planRead, planSessions, type ReadPlan } from './stats-read-plan';

const at = (iso: string) => new Date(iso);
const period = (from: string, to: string) => ({ from: at(from), to: at(to) });
const NOW = at('2025-03-15T12:00:00Z');
const ALL_KEPT = { now: NOW, rawKeptFrom: null };

/** The plan with its times as ISO strings, for readable expectations. */
function readable(plan: ReadPlan) {
  const range = (r: { from: Date; to: Date }) => [r.from.toISOString(), r.to.toISOString()];
  return {
    rollupDays: plan.rollupDays,
    pending: plan.pending && range(plan.pending),
    raw: plan.raw.map(range),
    subtract: plan.subtract.map((s) => [s.day, ...range(s.range)]),
    modes: plan.edges.map((e) => `${e.day}:${e.mode}`),
  };
}

describe('planRead', () => {
  it('reads a period of whole days from the rollups alone (the admin UI asks for those)', () => {
    const plan = planRead(period('2025-03-01T00:00:00Z', '2025-03-16T00:00:00Z'), ALL_KEPT);
    expect(readable(plan)).toEqual({
      rollupDays: { first: '2025-03-01', last: '2025-03-15' },
      pending: ['2025-03-01T00:00:00.000Z', '2025-03-16T00:00:00.000Z'],
      raw: [],
      subtract: [],
      modes: [],
    });
  });

  it('reads the part of a partial day that is shorter up to now: the inside raw, or the outside to subtract', () => {
    // The first day: 18 h inside, 6 h outside; the last: 12 h inside, 12 h outside of which
    // none has happened yet.
    const plan = planRead(period('2025-03-01T06:00:00Z', '2025-03-15T12:00:00Z'), ALL_KEPT);
    expect(readable(plan)).toEqual({
      rollupDays: { first: '2025-03-01', last: '2025-03-15' },
      pending: ['2025-03-01T06:00:00.000Z', '2025-03-15T12:00:00.000Z'],
      raw: [],
      subtract: [
        ['2025-03-01', '2025-03-01T00:00:00.000Z', '2025-03-01T06:00:00.000Z'],
        ['2025-03-15', '2025-03-15T12:00:00.000Z', '2025-03-16T00:00:00.000Z'],
      ],
      modes: ['2025-03-01:subtract', '2025-03-15:subtract'],
    });
  });

  it('reads a short inside raw and leaves that day out of the rollups', () => {
    const plan = planRead(period('2025-03-01T20:00:00Z', '2025-03-05T03:00:00Z'), ALL_KEPT);
    expect(readable(plan)).toEqual({
      rollupDays: { first: '2025-03-02', last: '2025-03-04' },
      pending: ['2025-03-02T00:00:00.000Z', '2025-03-05T00:00:00.000Z'],
      raw: [
        ['2025-03-01T20:00:00.000Z', '2025-03-02T00:00:00.000Z'],
        ['2025-03-05T00:00:00.000Z', '2025-03-05T03:00:00.000Z'],
      ],
      subtract: [],
      modes: ['2025-03-01:raw', '2025-03-05:raw'],
    });
  });

  it('splits a period inside one day into a raw inside or two outside parts', () => {
    const short = planRead(period('2025-03-10T10:00:00Z', '2025-03-10T11:00:00Z'), ALL_KEPT);
    expect(readable(short)).toMatchObject({
      rollupDays: null,
      pending: null,
      modes: ['2025-03-10:raw'],
    });
    const long = planRead(period('2025-03-10T01:00:00Z', '2025-03-10T23:00:00Z'), ALL_KEPT);
    expect(readable(long)).toMatchObject({
      rollupDays: { first: '2025-03-10', last: '2025-03-10' },
      pending: ['2025-03-10T01:00:00.000Z', '2025-03-10T23:00:00.000Z'],
      subtract: [
        ['2025-03-10', '2025-03-10T00:00:00.000Z', '2025-03-10T01:00:00.000Z'],
        ['2025-03-10', '2025-03-10T23:00:00.000Z', '2025-03-11T00:00:00.000Z'],
      ],
    });
  });

  it('subtracts when the inside is pruned, reads raw when the outside is, else counts the whole day', () => {
    const keptFrom = at('2025-03-01T04:00:00Z');
    const context = { now: NOW, rawKeptFrom: keptFrom };
    // Inside 05:00-24:00 is kept, the outside 00:00-05:00 is not: raw, though longer.
    expect(
      readable(planRead(period('2025-03-01T05:00:00Z', '2025-03-03T00:00:00Z'), context)).modes,
    ).toEqual(['2025-03-01:raw']);
    // Inside 02:00-24:00 is not kept: the whole day from the rollups.
    const whole = planRead(period('2025-03-01T02:00:00Z', '2025-03-03T00:00:00Z'), context);
    expect(readable(whole)).toMatchObject({
      rollupDays: { first: '2025-03-01', last: '2025-03-02' },
      pending: ['2025-03-01T00:00:00.000Z', '2025-03-03T00:00:00.000Z'],
      raw: [],
      subtract: [],
      modes: ['2025-03-01:whole'],
    });
    // Inside 00:00-02:00 of the last day is kept, and so is its outside: cheaper side.
    const kept = { now: NOW, rawKeptFrom: at('2025-02-01T00:00:00Z') };
    expect(
      readable(planRead(period('2025-02-27T00:00:00Z', '2025-03-01T02:00:00Z'), kept)).modes,
    ).toEqual(['2025-03-01:raw']);
  });

  it('costs a range by its duration up to now', () => {
    expect(costUpTo(period('2025-03-15T10:00:00Z', '2025-03-16T00:00:00Z'), NOW)).toBe(
      2 * 3_600_000,
    );
    expect(costUpTo(period('2025-03-16T00:00:00Z', '2025-03-17T00:00:00Z'), NOW)).toBe(0);
  });
});

describe('planSessions', () => {
  it('filters the session rows of the first and last day when the period starts or ends within them', () => {
    expect(planSessions(period('2025-03-01T06:00:00Z', '2025-03-15T12:00:00Z'), ALL_KEPT)).toEqual({
      days: {
        first: '2025-03-01',
        last: '2025-03-15',
        from: at('2025-03-01T06:00:00Z'),
        to: at('2025-03-15T12:00:00Z'),
      },
      raw: null,
    });
    expect(planSessions(period('2025-03-01T00:00:00Z', '2025-03-02T00:00:00Z'), ALL_KEPT)).toEqual({
      days: { first: '2025-03-01', last: '2025-03-01', from: null, to: null },
      raw: null,
    });
  });

  it('reads a period inside one day raw while its events are kept, else filters both ends', () => {
    const within = period('2025-03-10T10:00:00Z', '2025-03-10T11:00:00Z');
    expect(planSessions(within, ALL_KEPT)).toEqual({ days: null, raw: within });
    expect(planSessions(within, { now: NOW, rawKeptFrom: at('2025-03-11T00:00:00Z') })).toEqual({
      days: { first: '2025-03-10', last: '2025-03-10', from: within.from, to: within.to },
      raw: null,
    });
  });
});
