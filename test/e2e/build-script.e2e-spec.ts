import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** A tiny project laid out like ours, built by a copy of scripts/build.mjs. */
function makeProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-build-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts/build.mjs'), path.join(dir, 'scripts/build.mjs'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'src'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'src/a.ts'), 'export const a = 1;\n');
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { outDir: 'dist', module: 'commonjs', target: 'es2022', types: [] },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'tsconfig.build.json'),
    JSON.stringify({ extends: './tsconfig.json', include: ['src/**/*.ts', 'migrations/**/*.ts'] }),
  );
  return dir;
}

/** Runs the build; `compiled` is whether tsc ran. */
function build(dir: string, ...args: string[]) {
  const result = spawnSync(process.execPath, ['scripts/build.mjs', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  expect(result.status).toBe(0);
  return { compiled: /compiled dist\//.test(result.stderr) };
}

describe('scripts/build.mjs (prepare, prestart and test run it with --if-stale)', () => {
  jest.setTimeout(60_000);
  let dir: string;
  beforeEach(() => (dir = makeProject()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('compiles once, then not again while the sources are unchanged', () => {
    expect(build(dir, '--if-stale')).toEqual({ compiled: true });
    expect(fs.existsSync(path.join(dir, 'dist/a.js'))).toBe(true);
    expect(build(dir, '--if-stale')).toEqual({ compiled: false });
  });

  it('compiles again when a source is edited, added or deleted, leaving no stale output', () => {
    build(dir, '--if-stale');
    fs.writeFileSync(path.join(dir, 'src/a.ts'), 'export const a = 2;\n');
    expect(build(dir, '--if-stale')).toEqual({ compiled: true });
    expect(fs.readFileSync(path.join(dir, 'dist/a.js'), 'utf8')).toContain('a = 2');

    fs.writeFileSync(path.join(dir, 'src/b.ts'), 'export const b = 1;\n');
    expect(build(dir, '--if-stale')).toEqual({ compiled: true });
    fs.rmSync(path.join(dir, 'src/b.ts'));
    expect(build(dir, '--if-stale')).toEqual({ compiled: true });
    expect(fs.existsSync(path.join(dir, 'dist/b.js'))).toBe(false);
  });

  it('always compiles without --if-stale (npm run build)', () => {
    build(dir);
    expect(build(dir)).toEqual({ compiled: true });
  });

  it('fails, leaving no fingerprint, when tsc fails', () => {
    fs.writeFileSync(path.join(dir, 'src/a.ts'), 'export const a: number = "x";\n');
    const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(fs.existsSync(path.join(dir, 'dist/.build-fingerprint'))).toBe(false);
  });
});
