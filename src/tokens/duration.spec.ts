import { InvalidDurationError, MAX_DURATION_MS, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['45s', 45_000],
    ['30m', 30 * 60_000],
    ['12h', 12 * 3_600_000],
    ['90d', 90 * 86_400_000],
    ['2w', 14 * 86_400_000],
    ['1y', 365 * 86_400_000],
    ['100y', MAX_DURATION_MS],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    '90',
    'd',
    '0d',
    '1.5h',
    '-1d',
    ' 1d',
    '1d ',
    '1D',
    '1mo',
    '1h30m',
    '1e3s',
    '101y',
    '9999999d',
  ])('refuses %j with a message naming the input and the expected form', (text) => {
    expect(() => parseDuration(text)).toThrow(InvalidDurationError);
    try {
      parseDuration(text);
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain(JSON.stringify(text));
      expect(message).not.toContain('\n');
    }
  });
});
