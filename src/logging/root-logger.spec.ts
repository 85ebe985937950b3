import { prettyLogs, rootLogger } from './root-logger';

describe('prettyLogs', () => {
  it('follows LOG_FORMAT when it is set', () => {
    expect(prettyLogs({ logFormat: 'json' }, { isTTY: true })).toBe(false);
    expect(prettyLogs({ logFormat: 'pretty' }, { isTTY: false })).toBe(true);
  });

  it('is pretty exactly on a terminal otherwise (containers and CI get JSON)', () => {
    expect(prettyLogs({}, { isTTY: true })).toBe(true);
    expect(prettyLogs({}, { isTTY: false })).toBe(false);
    expect(prettyLogs({}, {})).toBe(false);
  });
});

describe('rootLogger', () => {
  it('is one logger per level and format, at that level', () => {
    const a = rootLogger({ logLevel: 'warn', logFormat: 'json' });
    expect(rootLogger({ logLevel: 'warn', logFormat: 'json' })).toBe(a);
    expect(a.level).toBe('warn');
    expect(rootLogger({ logLevel: 'debug', logFormat: 'json' })).not.toBe(a);
  });
});
