import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../config/app-config';
import { JWT_SECRET_FILE, resolveJwtSecret } from './jwt-secret';

describe('resolveJwtSecret', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-secret-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const secretFile = () => path.join(dataDir, JWT_SECRET_FILE);
  const strong = 's'.repeat(32);

  it('uses JWT_SECRET when it is set, without writing a file', () => {
    expect(resolveJwtSecret({ jwtSecret: strong, dataDir })).toBe(strong);
    expect(resolveJwtSecret({ jwtSecret: strong, dataDir, databaseUrl: 'postgres://db/x' })).toBe(
      strong,
    );
    expect(fs.existsSync(secretFile())).toBe(false);
  });

  it('embedded mode: generates a secret once (mode 0600) and reuses it on later starts', () => {
    const nested = path.join(dataDir, 'not-yet-created');
    const first = resolveJwtSecret({ dataDir: nested });
    const file = path.join(nested, JWT_SECRET_FILE);
    expect(Buffer.byteLength(first)).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(first);
    expect(resolveJwtSecret({ dataDir: nested })).toBe(first);
    expect(fs.readdirSync(nested)).toEqual([JWT_SECRET_FILE]);
  });

  it('gives each DATA_DIR its own secret', () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-secret-'));
    try {
      expect(resolveJwtSecret({ dataDir })).not.toBe(resolveJwtSecret({ dataDir: other }));
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'unset with DATABASE_URL',
      { databaseUrl: 'postgres://db/x' },
      /JWT_SECRET is required when DATABASE_URL is set/,
    ],
    [
      'short with DATABASE_URL',
      { databaseUrl: 'postgres://db/x', jwtSecret: 'short' },
      /JWT_SECRET must be at least 32 bytes \(got 5\)/,
    ],
    [
      '31 bytes in embedded mode',
      { jwtSecret: 'x'.repeat(31) },
      /JWT_SECRET must be at least 32 bytes/,
    ],
  ])('refuses a secret %s with one line naming JWT_SECRET', (_case, config, message) => {
    const run = () => resolveJwtSecret({ dataDir, ...config });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).message).not.toContain('short');
    }
    expect(fs.existsSync(secretFile())).toBe(false);
  });

  it('refuses an unusable secret file instead of silently replacing it', () => {
    fs.writeFileSync(secretFile(), 'tiny\n', { mode: 0o600 });
    expect(() => resolveJwtSecret({ dataDir })).toThrow(/holds no usable JWT secret.*JWT_SECRET/);
    expect(fs.readFileSync(secretFile(), 'utf8')).toBe('tiny\n');
  });
});
