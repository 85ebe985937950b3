import * as path from 'node:path';
import { ConfigError, loadConfig, SECRET_VARIABLES } from './app-config';

describe('loadConfig', () => {
  it('gives laptop defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      dataDir: path.resolve('./.data'),
      databaseUrl: undefined,
      logLevel: 'info',
      maxArtifactSize: 2 * 1024 ** 3,
      storage: { driver: 'fs', root: path.join(path.resolve('./.data'), 'blobs') },
      memoryCacheBytes: 32 * 1024 ** 2,
    });
  });

  it.each([
    ['64MiB', 64 * 1024 ** 2],
    ['1000000', 1_000_000],
    ['0', 0],
  ])('reads MEMORY_CACHE_BYTES=%s', (value, bytes) => {
    expect(loadConfig({ MEMORY_CACHE_BYTES: value }).memoryCacheBytes).toBe(bytes);
  });

  it('reads every value it is given', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATA_DIR: '/var/lib/teamcache',
      DATABASE_URL: 'postgres://u:p@db:5432/teamcache',
      LOG_LEVEL: 'debug',
      MAX_ARTIFACT_SIZE: '1048576',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/var/lib/teamcache',
      databaseUrl: 'postgres://u:p@db:5432/teamcache',
      logLevel: 'debug',
      maxArtifactSize: 1_048_576,
    });
  });

  it.each([
    [
      'PORT',
      'abc',
      /^Invalid configuration: PORT must be a port number between 1 and 65535 \(got "abc"\)$/,
    ],
    ['PORT', '70000', /PORT must be a port number/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of fatal, error, warn, info/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres:\/\/ connection URL/],
    ['MAX_ARTIFACT_SIZE', '-1', /MAX_ARTIFACT_SIZE must be a whole number of bytes/],
    ['ADMIN_TOKEN', 'short', /ADMIN_TOKEN must be at least 32 characters/],
    ['S3_USE_SSL', 'maybe', /S3_USE_SSL must be true or false/],
    ['MEMORY_CACHE_BYTES', 'lots', /MEMORY_CACHE_BYTES must be a size such as 64MiB/],
    ['MEMORY_CACHE_BYTES', '-5', /MEMORY_CACHE_BYTES must be a size/],
  ])('rejects %s=%s with one line naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  // Every secret, given a value that breaks its rule (or leaves a companion missing): the error
  // names the variable and never contains the value.
  it.each([
    ['JWT_SECRET', { JWT_SECRET: 'change-me-MARK-9f3a' }],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'MARK-9f3a-short' }],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'change-me-MARK-9f3a-0123456789abcdef0123' }],
    ['METRICS_TOKEN', { METRICS_TOKEN: 'MARK-9f3a-short' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://app:MARK-9f3a@db:3306/teamcache' }],
    ['DATABASE_URL', { DATABASE_URL: 'postgres://app:change-me-MARK-9f3a@db:5432/teamcache' }],
    ['S3_SECRET_KEY', { S3_ENDPOINT: 'minio', S3_SECRET_KEY: 'change-me-MARK-9f3a' }],
    ['S3_ACCESS_KEY', { S3_ENDPOINT: 'minio', S3_ACCESS_KEY: 'MARK-9f3a' }],
  ])('never echoes the value of %s in a configuration error', (name, env) => {
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(name);
    expect(message).not.toContain('MARK-9f3a');
    expect(SECRET_VARIABLES.has(name)).toBe(true);
  });

  it('chooses the s3 driver when S3_ENDPOINT is set, and requires its keys', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'minio' })).toThrow(/S3_ACCESS_KEY and S3_SECRET_KEY/);
    const config = loadConfig({
      S3_ENDPOINT: 'minio',
      S3_PORT: '9000',
      S3_USE_SSL: 'false',
      S3_ACCESS_KEY: 'ak',
      S3_SECRET_KEY: 'sk',
      S3_BUCKET: 'cache',
    });
    expect(config.storage).toEqual({
      driver: 's3',
      endPoint: 'minio',
      port: 9000,
      useSSL: false,
      accessKey: 'ak',
      secretKey: 'sk',
      bucket: 'cache',
      region: 'us-east-1',
    });
  });

  describe('the admin listener', () => {
    it('shares PORT when ADMIN_PORT is unset', () => {
      expect(loadConfig({}).admin).toBeUndefined();
    });

    it('binds ADMIN_PORT on loopback unless ADMIN_HOST says otherwise', () => {
      expect(loadConfig({ ADMIN_PORT: '3001' }).admin).toEqual({ port: 3001, host: '127.0.0.1' });
      expect(loadConfig({ ADMIN_PORT: '3001', ADMIN_HOST: '0.0.0.0' }).admin).toEqual({
        port: 3001,
        host: '0.0.0.0',
      });
    });

    it.each([
      [{ ADMIN_PORT: 'x' }, /ADMIN_PORT must be a port number/],
      [{ ADMIN_PORT: '70000' }, /ADMIN_PORT must be a port number/],
      [{ ADMIN_HOST: '0.0.0.0' }, /ADMIN_HOST needs ADMIN_PORT/],
      [{ PORT: '4000', ADMIN_PORT: '4000' }, /ADMIN_PORT must differ from PORT/],
    ])('refuses %j', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  it('reads LOG_FORMAT, unset by default (the logger then asks the terminal)', () => {
    expect(loadConfig({}).logFormat).toBeUndefined();
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(
      /LOG_FORMAT must be one of json, pretty/,
    );
  });

  describe('usage statistics', () => {
    it('keeps raw events 30 days and rollups 730, and rolls up every 5 s by default', () => {
      expect(loadConfig({}).usageStats).toEqual({
        eventsRetentionDays: 30,
        rollupRetentionDays: 730,
        rollupIntervalMs: 5_000,
      });
    });

    it('reads USAGE_EVENTS_RETENTION_DAYS, USAGE_ROLLUP_RETENTION_DAYS, USAGE_ROLLUP_INTERVAL_MS', () => {
      const config = loadConfig({
        USAGE_EVENTS_RETENTION_DAYS: '7',
        USAGE_ROLLUP_RETENTION_DAYS: '7',
        USAGE_ROLLUP_INTERVAL_MS: '0',
      });
      expect(config.usageStats).toEqual({
        eventsRetentionDays: 7,
        rollupRetentionDays: 7,
        rollupIntervalMs: 0,
      });
    });

    it.each([
      [
        'USAGE_EVENTS_RETENTION_DAYS',
        '0',
        /USAGE_EVENTS_RETENTION_DAYS must be a whole number of days from 1/,
      ],
      [
        'USAGE_ROLLUP_RETENTION_DAYS',
        'forever',
        /USAGE_ROLLUP_RETENTION_DAYS must be a whole number/,
      ],
      [
        'USAGE_ROLLUP_INTERVAL_MS',
        '-1',
        /USAGE_ROLLUP_INTERVAL_MS must be a whole number of milliseconds/,
      ],
    ])('rejects %s=%s', (name, value, message) => {
      expect(() => loadConfig({ [name]: value })).toThrow(message);
    });

    it('refuses rollups kept for less time than the raw events they stand for', () => {
      expect(() =>
        loadConfig({ USAGE_EVENTS_RETENTION_DAYS: '90', USAGE_ROLLUP_RETENTION_DAYS: '60' }),
      ).toThrow(
        'Invalid configuration: USAGE_ROLLUP_RETENTION_DAYS (60) must be at least USAGE_EVENTS_RETENTION_DAYS (90)',
      );
    });
  });
});
