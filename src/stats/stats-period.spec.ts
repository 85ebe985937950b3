import { InvalidPeriodError, parsePeriod, utcDays } from './stats-period';

const NOW = new Date('2025-03-15T12:30:00.000Z');
const iso = (period: { from: Date; to: Date }) => ({
  from: period.from.toISOString(),
  to: period.to.toISOString(),
});

describe('parsePeriod', () => {
  it('defaults to the 30 days before now', () => {
    expect(iso(parsePeriod(undefined, undefined, NOW))).toEqual({
      from: '2025-02-13T12:30:00.000Z',
      to: '2025-03-15T12:30:00.000Z',
    });
  });

  it('treats empty strings as absent', () => {
    expect(iso(parsePeriod('', '', NOW))).toEqual(iso(parsePeriod(undefined, undefined, NOW)));
  });

  it('reads plain dates as UTC days, `to` including its whole day', () => {
    expect(iso(parsePeriod('2025-01-01', '2025-01-31', NOW))).toEqual({
      from: '2025-01-01T00:00:00.000Z',
      to: '2025-02-01T00:00:00.000Z',
    });
  });

  it('reads date-times with an offset exactly', () => {
    expect(iso(parsePeriod('2025-01-01T10:00:00+02:00', '2025-01-02T00:00:00.5Z', NOW))).toEqual({
      from: '2025-01-01T08:00:00.000Z',
      to: '2025-01-02T00:00:00.500Z',
    });
  });

  it('counts 30 days back from an explicit `to`', () => {
    expect(iso(parsePeriod(undefined, '2025-01-31', NOW)).from).toBe('2025-01-02T00:00:00.000Z');
  });

  it('accepts exactly 366 days', () => {
    expect(() => parsePeriod('2024-01-01', '2024-12-31', NOW)).not.toThrow();
  });

  it.each([
    ['yesterday', undefined, /from must be an ISO date .* \(got "yesterday"\)/],
    [undefined, '2025-02-30', /to must be an ISO date/],
    ['2025-13-01', undefined, /from must be an ISO date/],
    ['2025-01-01T10:00:00', undefined, /from must be an ISO date/],
    ['2025-01-01T25:00:00Z', undefined, /from must be an ISO date/],
    ['1735689600000', undefined, /from must be an ISO date/],
    ['2025-02-01', '2025-01-01', /must be before to/],
    ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', /must be before to/],
    ['2023-01-01', '2025-01-01', /at most 366 days/],
  ])('refuses from=%j to=%j', (from, to, message) => {
    expect(() => parsePeriod(from, to, NOW)).toThrow(InvalidPeriodError);
    expect(() => parsePeriod(from, to, NOW)).toThrow(message);
  });
});

describe('utcDays', () => {
  it('lists every UTC day the period touches', () => {
    expect(
      utcDays({ from: new Date('2025-02-27T18:00:00Z'), to: new Date('2025-03-02T01:00:00Z') }),
    ).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
  });

  it('stops before a `to` at midnight', () => {
    expect(
      utcDays({ from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-03T00:00:00Z') }),
    ).toEqual(['2025-01-01', '2025-01-02']);
  });
});
