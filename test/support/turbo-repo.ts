import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TURBO = path.resolve(__dirname, '../../node_modules/.bin/turbo');
const GIT_ID = ['-c', 'user.email=ci@teamcache.test', '-c', 'user.name=teamcache tests'];

/**
 * A small generated npm-workspaces monorepo under git: each package's build writes random
 * bytes, so identical outputs after a second run can only come from the cache.
 */
export function createMonorepo(packages: string[], turboJson: object = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-turbo-'));
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  };
  write(
    'package.json',
    JSON.stringify({
      name: 'mono',
      private: true,
      packageManager: 'npm@11.0.0',
      workspaces: ['packages/*'],
    }),
  );
  write(
    'package-lock.json',
    JSON.stringify({ name: 'mono', lockfileVersion: 3, requires: true, packages: {} }),
  );
  write('.gitignore', 'node_modules\n.turbo\ndist\n');
  write(
    'turbo.json',
    JSON.stringify({
      $schema: 'https://turbo.build/schema.json',
      tasks: { build: { outputs: ['dist/**'] } },
      ...turboJson,
    }),
  );
  for (const name of packages) {
    write(
      `packages/${name}/package.json`,
      JSON.stringify({ name, version: '1.0.0', scripts: { build: 'node build.js' } }),
    );
    write(
      `packages/${name}/build.js`,
      "const fs = require('fs'); fs.mkdirSync('dist', { recursive: true });\n" +
        `fs.writeFileSync('dist/out.bin', require('crypto').randomBytes(200000));\n` +
        `fs.writeFileSync('dist/name.txt', '${name}');\n`,
    );
  }
  execFileSync('git', ['init', '-q'], { cwd: root });
  execFileSync('git', ['add', '-A'], { cwd: root });
  execFileSync('git', [...GIT_ID, 'commit', '-qm', 'init'], { cwd: root });
  return root;
}

/** A fresh clone: no .turbo, no dist, so every hit must come from the remote cache. */
export function cloneRepo(source: string): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-clone-'));
  execFileSync('git', ['clone', '-q', source, target]);
  return target;
}

export interface TurboRun {
  status: number | null;
  output: string;
}

/**
 * `turbo run build` with nothing but the remote cache variables (and quiet telemetry). Async:
 * the app under test runs in this process and must keep answering while turbo runs.
 */
export function turboRun(cwd: string, env: Record<string, string>): Promise<TurboRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(TURBO, ['run', 'build', '--no-daemon'], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TURBO_TELEMETRY_DISABLED: '1',
        TURBO_NO_UPDATE_NOTIFIER: '1',
        DO_NOT_TRACK: '1',
        ...env,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

export function readOutputs(root: string, packages: string[]): Buffer[] {
  return packages.flatMap((name) => [
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'out.bin')),
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'name.txt')),
  ]);
}
