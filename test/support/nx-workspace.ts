import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ClientRun, runClient } from './client-run';

/** The `nx` devDependency: its package directory and the CLI entry its manifest names. */
const NX_DIR = path.dirname(require.resolve('nx/package.json'));
const NX_MANIFEST = JSON.parse(fs.readFileSync(path.join(NX_DIR, 'package.json'), 'utf8')) as {
  version: string;
  bin: { nx: string };
};
export const NX_VERSION = NX_MANIFEST.version;
const NX_BIN = path.join(NX_DIR, NX_MANIFEST.bin.nx);

/** What a copy of a workspace leaves behind: Nx's local cache and database, build outputs. */
const NOT_COPIED = new Set(['.nx', 'dist', 'node_modules']);
/**
 * Random output bytes per project: more than the app keeps in memory per body (256 KiB,
 * DEFAULT_BLOB_CACHE), so every hit is read from the storage itself.
 */
const OUTPUT_BYTES = 300_000;

/**
 * A generated Nx workspace (no network, no generator): nx.json, a package.json and one
 * project.json per project whose `build` (nx:run-commands, cacheable, outputs `dist`) writes
 * random bytes, so identical outputs after another run can only come from a cache.
 * `node_modules/nx` links to the devDependency: Nx insists on a local installation.
 */
export function createNxWorkspace(projects: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-nx-'));
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  };
  write('package.json', JSON.stringify({ name: 'nx-mono', private: true }));
  // Outputs must not be inputs: Nx hashes the files git would track.
  write('.gitignore', 'node_modules\n.nx\ndist\n');
  // Analytics are opt-in (an unset flag sends nothing); false also skips the prompt.
  write('nx.json', JSON.stringify({ analytics: false, neverConnectToCloud: true }));
  for (const name of projects) {
    write(
      `packages/${name}/project.json`,
      JSON.stringify({
        name,
        root: `packages/${name}`,
        targets: {
          build: {
            executor: 'nx:run-commands',
            options: { command: 'node build.js', cwd: `packages/${name}` },
            cache: true,
            outputs: ['{projectRoot}/dist'],
          },
        },
      }),
    );
    write(
      `packages/${name}/build.js`,
      "const fs = require('fs'); fs.mkdirSync('dist', { recursive: true });\n" +
        `fs.writeFileSync('dist/out.bin', require('crypto').randomBytes(${OUTPUT_BYTES}));\n` +
        `fs.writeFileSync('dist/name.txt', '${name}');\n`,
    );
  }
  linkNx(root);
  return root;
}

/** A fresh checkout of `source`: its sources only, so every hit must come from the remote cache. */
export function copyNxWorkspace(source: string): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-nx-copy-'));
  fs.cpSync(source, target, {
    recursive: true,
    filter: (file) => !NOT_COPIED.has(path.basename(file)),
  });
  linkNx(target);
  return target;
}

function linkNx(root: string): void {
  fs.mkdirSync(path.join(root, 'node_modules'), { recursive: true });
  fs.symlinkSync(NX_DIR, path.join(root, 'node_modules', 'nx'), 'dir');
}

export type NxRun = ClientRun;

/** The two variables of Nx's self-hosted remote cache (`server` is the base URL). */
export function nxRemoteCache(server: string, token: string): Record<string, string> {
  return {
    NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server,
    NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token,
  };
}

/**
 * `nx run-many -t build` with nothing but `env` and what keeps Nx offline and plain: no daemon
 * (a background process outliving the test), no Nx Cloud, no terminal UI (static output lists
 * each task with `[remote cache]` or `[local cache]`). Async: the app under test runs in this
 * process and must keep answering while Nx runs.
 */
export function nxRun(cwd: string, env: Record<string, string>): Promise<NxRun> {
  return runClient(
    process.execPath,
    [NX_BIN, 'run-many', '-t', 'build', '--output-style=static'],
    cwd,
    {
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      ...env,
    },
  );
}

/** The projects whose task Nx took from the remote cache (`> nx run alpha:build  [remote cache]`). */
export function remoteHits(run: NxRun): string[] {
  return [...run.output.matchAll(/^> nx run (\S+):build\s+\[remote cache\]/gm)]
    .map((m) => m[1])
    .sort();
}

/** Nx's own count: `Cache:  2/2 hit (100%)`. */
export function cacheSummary(run: NxRun): string | undefined {
  return /Cache:\s+(\d+\/\d+) hit/.exec(run.output)?.[1];
}

export function readNxOutputs(root: string, projects: string[]): Buffer[] {
  return projects.flatMap((name) => [
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'out.bin')),
    fs.readFileSync(path.join(root, 'packages', name, 'dist', 'name.txt')),
  ]);
}
