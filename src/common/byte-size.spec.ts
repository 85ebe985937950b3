import { formatBytes, InvalidByteSizeError, parseByteSize } from './byte-size';

describe('parseByteSize', () => {
  it.each([
    ['1', 1],
    ['1073741824', 1024 ** 3],
    ['10GiB', 10 * 1024 ** 3],
    ['10gib', 10 * 1024 ** 3],
    ['10 GiB', 10 * 1024 ** 3],
    ['500MB', 500_000_000],
    ['1.5KiB', 1536],
    ['2TB', 2e12],
    ['3kb', 3000],
    ['7b', 7],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each([
    '',
    '0',
    '0GiB',
    '-1',
    '1.5',
    '1e9',
    '10 parsecs',
    '10GB10',
    'GiB',
    '1.5B',
    '99999999999TiB',
  ])('refuses %j with a message naming it', (text) => {
    expect(() => parseByteSize(text)).toThrow(InvalidByteSizeError);
    expect(() => parseByteSize(text)).toThrow(JSON.stringify(text));
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024 ** 3, '10 GiB'],
    [3 * 1024 ** 4 + 1, '3 TiB'],
  ])('formats %d as %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
