import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { EnvironmentSchema } from '../../src/config/environment.schema';
import { CURRENT_TURBO } from './turbo-repo';
import { sleep } from './wait';

/**
 * What running a document's shell commands "as a user types them" needs: the marked code blocks,
 * a checkout made of the tracked files, a user's environment, and bash in the foreground or in
 * the background.
 */

/**
 * The code blocks marked `<!-- quickstart: <name> -->` on the line before their fence, by name,
 * exactly as written (the marker keeps the commands themselves free of test scaffolding).
 */
export function markedBlocks(markdown: string): Record<string, string> {
  const blocks: Record<string, string> = {};
  const marked = /<!-- quickstart: ([\w-]+) -->\n```(?:sh|bash)\n([\s\S]*?)\n```/g;
  for (const [, name, code] of markdown.matchAll(marked)) {
    if (name in blocks) throw new Error(`two blocks are marked "quickstart: ${name}"`);
    blocks[name] = code;
  }
  return blocks;
}

/** Tracked files, and untracked ones that .gitignore does not exclude, NUL-separated. */
const COMMITTABLE_FILES = ['ls-files', '-z', '--cached', '--others', '--exclude-standard'] as const;

/**
 * Copies what a clone of `root` would hold once its work in progress is committed: the files git
 * tracks, as they are in the working tree, and the new files git does not ignore (a new module
 * that a tracked file already imports). Never node_modules, dist, .data or other ignored files;
 * a tracked file deleted in the working tree is left out.
 */
export function copyCheckout(root: string, target: string): number {
  const listing = execFileSync('git', [...COMMITTABLE_FILES], { cwd: root, encoding: 'utf8' });
  const files = listing.split('\0').filter(Boolean);
  let copied = 0;
  for (const file of files) {
    const from = path.join(root, file);
    const stat = fs.lstatSync(from, { throwIfNoEntry: false });
    if (!stat) continue;
    const to = path.join(target, file);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else {
      fs.copyFileSync(from, to);
      fs.chmodSync(to, stat.mode & 0o777);
    }
    copied += 1;
  }
  return copied;
}

/** Variables npm sets for the script it runs (here: `npm test`), which a user's shell lacks. */
const NPM_SCRIPT_VARIABLES =
  /^(npm_(lifecycle|package)_|npm_command$|npm_execpath$|npm_node_execpath$|npm_config_(local_|global_)?prefix$|INIT_CWD$)/i;

/**
 * The environment of a user's shell on this machine: ours without what the test runner, npm's
 * script runner or another test put there (teamcache's own settings, turbo's, NODE_ENV=test).
 * npm's configuration (`npm_config_*`: cache, registry) stays, as the user's npm reads it too.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const settings = new Set(Object.keys(new EnvironmentSchema()));
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (settings.has(key) || NPM_SCRIPT_VARIABLES.test(key)) continue;
    if (/^(TURBO_|TEAMCACHE_|JEST_)/.test(key) || key === 'NODE_ENV') continue;
    if (key === 'TEST_DATABASE_URL') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Whether nothing listens on `port` (any address) right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

/** Runs `script` with bash to completion; stdout and stderr interleaved, as a terminal shows. */
export function runBash(
  script: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: options.cwd, env: options.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/**
 * A bash script left running, like a server in a terminal of its own: its own process group
 * (so that stop() reaches npm, its script shell and node alike), its output, and when each
 * awaited line first appeared.
 */
export class BackgroundShell {
  readonly startedAt = Date.now();
  private output = '';
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(script: string, options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn('bash', ['-c', script], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // 'close': bash has exited and so has every process that still held its output (npm, node).
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  logs(): string {
    return this.output;
  }

  /** Milliseconds from the start until `pattern` appeared in the output; fails if it exits first. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<number> {
    const until = this.startedAt + timeoutMs;
    while (!pattern.test(this.output)) {
      if (this.exitCode !== undefined) {
        throw new Error(`exited (${this.exitCode}) before ${pattern}:\n${this.tail()}`);
      }
      if (Date.now() > until) throw new Error(`no ${pattern} in ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(100);
    }
    return Date.now() - this.startedAt;
  }

  /**
   * SIGTERM to the whole process group, then its exit: SIGKILL to the group after `graceMs`, and
   * giving up waiting 5 s later (a process that left the group may still hold the output).
   */
  async stop(graceMs = 30_000): Promise<number | null | 'still running'> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.signalGroup('SIGTERM');
    const within = async (ms: number) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'still running'>((resolve) => {
        timer = setTimeout(() => resolve('still running'), ms);
      });
      try {
        return await Promise.race([this.exited, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    const code = await within(graceMs);
    if (code !== 'still running') return code;
    this.signalGroup('SIGKILL');
    return within(5_000);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  }

  private tail(): string {
    return this.output.split('\n').slice(-40).join('\n');
  }
}

/**
 * Makes `turbo` a dependency of the generated monorepo the way `npm i -D turbo` would (the
 * package, its platform binary and node_modules/.bin/turbo), by linking this project's copies:
 * `npx turbo` then runs it without a download, and turbo finds itself installed locally.
 */
export function installTurbo(repo: string): void {
  const turboDir = path.dirname(require.resolve('turbo/package.json'));
  const nativeDir = path.dirname(path.dirname(CURRENT_TURBO.bin));
  const nativeName = (
    JSON.parse(fs.readFileSync(path.join(nativeDir, 'package.json'), 'utf8')) as { name: string }
  ).name;
  const modules = path.join(repo, 'node_modules');
  fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
  fs.mkdirSync(path.dirname(path.join(modules, nativeName)), { recursive: true });
  fs.symlinkSync(turboDir, path.join(modules, 'turbo'));
  fs.symlinkSync(nativeDir, path.join(modules, nativeName));
  fs.symlinkSync('../turbo/bin/turbo', path.join(modules, '.bin', 'turbo'));
}
