import { loadConfig } from './app-config';
import { DEFAULT_OIDC_ISSUERS, parseOidcIssuers } from './oidc-issuers';

describe('OIDC_ISSUERS', () => {
  it('defaults to GitHub Actions and gitlab.com', () => {
    expect(loadConfig({}).oidc).toEqual({
      issuers: ['https://token.actions.githubusercontent.com', 'https://gitlab.com'],
      allowHttp: false,
    });
    expect(parseOidcIssuers(DEFAULT_OIDC_ISSUERS, false)).toHaveLength(2);
  });

  it('normalises, de-duplicates, and may be empty (no exchange)', () => {
    expect(
      parseOidcIssuers(
        ' https://ghe.example.com/_services/token/ ,https://ghe.example.com/_services/token',
        false,
      ),
    ).toEqual(['https://ghe.example.com/_services/token']);
    expect(parseOidcIssuers('', false)).toEqual([]);
  });

  it('takes http only on loopback and only with OIDC_ALLOW_HTTP_ISSUERS', () => {
    expect(parseOidcIssuers('http://127.0.0.1:4000', true)).toEqual(['http://127.0.0.1:4000']);
    expect(parseOidcIssuers('http://127.0.0.1:4000', false)).toEqual({
      error: expect.stringContaining('https'),
    });
    expect(parseOidcIssuers('http://ci.example.com', true)).toEqual({
      error: expect.stringContaining('https'),
    });
  });

  it.each(['not a url', 'https://ci.example.com/?x=1', 'https://user:pw@ci.example.com'])(
    'refuses %j at start-up',
    (value) => {
      expect(() => loadConfig({ OIDC_ISSUERS: value })).toThrow(/OIDC_ISSUERS/);
    },
  );
});
