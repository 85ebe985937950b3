import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, loadConfig } from './app-config';

const REAL = 'f3c9a1d2e4b5968778695a4b3c2d1e0ff3c9a1d2e4b59687';

/** The uncommented `NAME=value` lines of .env.example, as compose's env_file reads them. */
function envExample(): Record<string, string> {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2];
  }
  return env;
}

function messageOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('placeholder secrets', () => {
  it.each([
    ['JWT_SECRET', 'change-me-to-a-random-secret-of-at-least-32-bytes'],
    ['ADMIN_TOKEN', 'change-me-to-a-random-admin-token-of-at-least-32-chars'],
    ['METRICS_TOKEN', 'CHANGE-ME-metrics-token-0123456789abcdef'],
    ['S3_SECRET_KEY', 'change-me-minio-secret-key'],
    ['DATABASE_URL', 'postgres://teamcache:change-me-postgres-password@postgres:5432/teamcache'],
  ])('refuses %s still holding a change-me placeholder, in one line naming it', (name, value) => {
    const message = messageOf({ [name]: value });
    expect(message).toMatch(
      new RegExp(`^Invalid configuration: ${name} still holds the .env.example placeholder`),
    );
    expect(message).not.toContain('\n');
  });

  it('refuses the untouched .env.example, naming every secret left to change', () => {
    const env = envExample();
    const message = messageOf({
      ...env,
      DATABASE_URL: `postgres://teamcache:${env.POSTGRES_PASSWORD}@postgres:5432/teamcache`,
      S3_ENDPOINT: 'minio',
    });
    for (const name of ['JWT_SECRET', 'ADMIN_TOKEN', 'S3_SECRET_KEY', 'DATABASE_URL']) {
      expect(message).toContain(`${name} still holds the .env.example placeholder`);
    }
    expect(message).not.toContain('\n');
  });

  it('accepts .env.example once its secrets are replaced', () => {
    const env = envExample();
    const config = loadConfig({
      ...env,
      POSTGRES_PASSWORD: REAL,
      JWT_SECRET: REAL,
      ADMIN_TOKEN: REAL,
      S3_SECRET_KEY: REAL,
      DATABASE_URL: `postgres://teamcache:${REAL}@postgres:5432/teamcache`,
      S3_ENDPOINT: 'minio',
    });
    expect(config).toMatchObject({ jwtSecret: REAL, adminToken: REAL });
    expect(config.storage).toMatchObject({ driver: 's3', secretKey: REAL });
  });
});
