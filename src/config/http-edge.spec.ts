import { ConfigError, loadConfig } from './app-config';

describe('HTTP edge settings', () => {
  it('defaults to any origin, no trusted proxy and the default limits', () => {
    expect(loadConfig({})).toMatchObject({
      metricsToken: undefined,
      corsOrigins: '*',
      trustProxy: false,
      rateLimit: { authFailuresPerMinute: 30, adminPerMinute: 120 },
    });
  });

  it('reads every value it is given', () => {
    expect(
      loadConfig({
        METRICS_TOKEN: 'm'.repeat(32),
        CORS_ORIGINS: 'https://ci.example.com, http://localhost:3001/',
        TRUST_PROXY: 'loopback, 10.0.0.0/8',
        RATE_LIMIT_AUTH_FAILURES: '5',
        RATE_LIMIT_ADMIN: '0',
      }),
    ).toMatchObject({
      metricsToken: 'm'.repeat(32),
      corsOrigins: ['https://ci.example.com', 'http://localhost:3001'],
      trustProxy: ['loopback', '10.0.0.0/8'],
      rateLimit: { authFailuresPerMinute: 5, adminPerMinute: 0 },
    });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it.each([
    ['METRICS_TOKEN', 'short', /METRICS_TOKEN must be at least 32 characters/],
    ['CORS_ORIGINS', 'ci.example.com', /CORS_ORIGINS must be \* or a comma-separated list/],
    ['CORS_ORIGINS', 'https://a.example/path', /CORS_ORIGINS must be/],
    ['TRUST_PROXY', 'yes', /TRUST_PROXY must be true, false, a hop count/],
    ['RATE_LIMIT_AUTH_FAILURES', '-1', /RATE_LIMIT_AUTH_FAILURES must be a whole number/],
    ['RATE_LIMIT_ADMIN', 'lots', /RATE_LIMIT_ADMIN must be a whole number/],
  ])('rejects %s=%s with one line naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });
});
