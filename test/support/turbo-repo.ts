import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ClientRun, runClient } from './client-run';

const GIT_ID = ['-c', 'user.email=ci@teamcache.test', '-c', 'user.name=teamcache tests'];

/** One installed turbo CLI: the `turbo` package or an npm alias of it (`turbo-1-13-4`). */
export interface TurboCli {
  version: string;
  major: number;
  /** The native binary itself: the package's `bin/turbo` is a node shim that may npm-install. */
  bin: string;
}

/**
 * The native binary of an installed turbo package, found the way its shim finds it (the platform
 * package among its optionalDependencies) and checked to be of the same version: with several
 * turbo versions installed, resolution can fall through to another version's hoisted binary.
 * The `.bin/turbo` link is not used: npm links it to whichever package claims it last.
 */
export function turboCli(pkg = 'turbo'): TurboCli {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = readManifest(manifestPath);
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const arch = process.arch === 'x64' ? '64' : process.arch;
  const native = Object.keys(manifest.optionalDependencies ?? {}).find((name) =>
    name.endsWith(`${platform}-${arch}`),
  );
  if (!native) throw new Error(`${pkg} ${manifest.version} has no binary for ${platform}-${arch}`);
  const nativePath = require.resolve(`${native}/package.json`, {
    paths: [path.dirname(manifestPath)],
  });
  const nativeVersion = readManifest(nativePath).version;
  if (nativeVersion !== manifest.version) {
    throw new Error(`${pkg} ${manifest.version} resolves ${native} ${nativeVersion}`);
  }
  return {
    version: manifest.version,
    major: Number(manifest.version.split('.')[0]),
    bin: path.join(path.dirname(nativePath), 'bin', platform === 'windows' ? 'turbo.exe' : 'turbo'),
  };
}

function readManifest(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as {
    version: string;
    optionalDependencies?: Record<string, string>;
  };
}

/** The `turbo` devDependency: the current CLI. */
export const CURRENT_TURBO = turboCli();

/**
 * A small generated npm-workspaces monorepo under git: each package's build writes random
 * bytes, so identical outputs after a second run can only come from the cache. turbo.json is
 * written in the schema of `turbo` (1.x calls `tasks` `pipeline`).
 */
export function createMonorepo(
  packages: string[],
  turboJson: object = {},
  turbo: TurboCli = CURRENT_TURBO,
): string {
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
      [turbo.major < 2 ? 'pipeline' : 'tasks']: { build: { outputs: ['dist/**'] } },
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

export type TurboRun = ClientRun;

/**
 * `turbo run build` with nothing but the remote cache variables (and quiet telemetry). Async:
 * the app under test runs in this process and must keep answering while turbo runs.
 * `--skip-infer`: never hand over to a turbo found in a node_modules above `cwd`.
 */
export function turboRun(
  cwd: string,
  env: Record<string, string>,
  turbo: TurboCli = CURRENT_TURBO,
  args: string[] = [],
): Promise<TurboRun> {
  return runClient(turbo.bin, ['run', 'build', '--no-daemon', '--skip-infer', ...args], cwd, {
    TURBO_TELEMETRY_DISABLED: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
    DO_NOT_TRACK: '1',
    ...env,
  });
}

/**
 * Task → hash from turbo's per-task lines, printed alike by 1.x and 2.x:
 * `alpha:build: cache miss, executing <hash>`, `alpha:build: cache hit, replaying logs <hash>`.
 */
export function taskHashes(run: TurboRun, outcome: 'hit' | 'miss'): Record<string, string> {
  const line = new RegExp(`^(\\S+): cache ${outcome}\\b.*?([0-9a-f]{16})\\s*$`, 'gm');
  return Object.fromEntries([...run.output.matchAll(line)].map((m) => [m[1], m[2]]));
}

export function readOutputs(root: string, packages: string[]): Buffer[] {
  return packages.flatMap((name) => [
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'out.bin')),
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'name.txt')),
  ]);
}
