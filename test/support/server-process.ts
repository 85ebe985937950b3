import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { freePort } from './ports';
import { sleep } from './wait';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'bin/teamcache.js');

/** A fresh DATA_DIR (0700, as mkdtemp makes it). */
export function makeDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-srv-'));
}

/** The environment of a child process: ours minus anything that would pick a database. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const key of [
    'DATABASE_URL',
    'PORT',
    'DATA_DIR',
    'JWT_SECRET',
    'ADMIN_TOKEN',
    'ADMIN_PORT',
    'ADMIN_HOST',
    'LOG_FORMAT',
    'WORKERS',
    'S3_ENDPOINT',
  ]) {
    delete base[key];
  }
  return { ...base, ...env };
}

/** Runs `teamcache <args>` to completion. */
export function runCli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: childEnv(env),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `teamcache <args>` to completion without blocking the event loop (requests go on meanwhile). */
export function runCliAsync(
  args: string[],
  env: Record<string, string>,
): Promise<ReturnType<typeof runCli>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

export class ServerProcess {
  private output = '';
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Starts `teamcache serve` and waits until /healthz answers 200. */
  static async start(env: Record<string, string>, timeoutMs = 60_000): Promise<ServerProcess> {
    const port = env.PORT ?? String(await freePort());
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: childEnv({ HOST: '127.0.0.1', ...env, PORT: port }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`);
    const until = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void server.exited.then((code) => (exitCode = code));
    while (Date.now() < until) {
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}):\n${server.logs()}`);
      const ok = await fetch(`${server.url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return server;
      await sleep(200);
    }
    child.kill('SIGKILL');
    throw new Error(`server did not become healthy in ${timeoutMs} ms:\n${server.logs()}`);
  }

  logs(): string {
    return this.output;
  }

  /** Sends a signal and waits for the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

/** The pid of the live postmaster of DATA_DIR's embedded cluster, if any. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    return isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True for a live process; a zombie (killed, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A failed command: non-zero exit, nothing on stdout, exactly one line on stderr. */
export function expectOneLineFailure(result: ReturnType<typeof runCli>, pattern: RegExp): void {
  expect(result.status).not.toBe(0);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}
