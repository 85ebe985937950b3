// The built `teamcache serve` as one or several replicas of one deployment, on 127.0.0.1 only,
// for bench/soak.mjs. Every replica has its own port and log tail; all share one temp DATA_DIR,
// so one fs blob store (DATA_DIR/blobs), which stop() removes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, ROOT } from './servers.mjs';

const CLI = path.join(ROOT, 'bin/teamcache.js');
const LOG_CHUNKS = 200;
const HEALTHY_WITHIN_MS = 90_000;
/** A replica still running this long after SIGTERM is killed, so that the soak always ends. */
const STOP_WITHIN_MS = 60_000;

/**
 * One replica runs as a lone server does: DATA_DIR only, it starts (and stops) its own embedded
 * PostgreSQL. Several replicas share a scratch embedded cluster started here, passed to each as
 * DATABASE_URL, and one random JWT_SECRET, as the replicas of a real deployment would; the admin
 * CLI gets the same environment (`cliEnv`), so it reaches the same database and signs tokens
 * every replica accepts.
 */
export class Replicas {
  /** @type {{ index: number, url: URL, child: import('node:child_process').ChildProcess, log: string[], died: boolean, exited: Promise<void> }[]} */
  list = [];
  cliEnv;
  dataDir;
  cluster;

  constructor(count, baseEnv) {
    this.count = count;
    this.baseEnv = baseEnv;
  }

  get died() {
    return this.list.some((replica) => replica.died);
  }

  async start(stopRequested = () => false) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-soak-'));
    const env = { ...this.baseEnv, DATA_DIR: this.dataDir };
    for (const key of ['DATABASE_URL', 'S3_ENDPOINT', 'JWT_SECRET']) delete env[key];
    if (this.count > 1) {
      // The cluster lives in DATA_DIR/postgres, where a lone server would keep its own.
      const { EmbeddedPostgres } = await import(
        pathToFileURL(path.join(ROOT, 'dist/src/database/embedded-postgres.js')).href
      );
      this.cluster = new EmbeddedPostgres({ dataDir: this.dataDir });
      env.DATABASE_URL = this.cluster.url(await this.cluster.start(true));
      env.JWT_SECRET = randomBytes(32).toString('hex');
    }
    this.cliEnv = env;
    // All at once: their migrations on the fresh database are serialised by the server.
    for (let index = 0; index < this.count; index += 1) {
      this.list.push(this.spawnReplica(index, env, await freePort()));
    }
    await Promise.all(this.list.map((replica) => waitHealthy(replica, stopRequested)));
  }

  /** The last lines each replica wrote, labelled. */
  logs() {
    return this.list
      .map((r) => `--- replica ${r.index} (${r.url.host}) ---\n${r.log.join('').slice(-4000)}`)
      .join('\n');
  }

  /** Stops every replica, then the shared cluster; removes DATA_DIR. Safe after a failed start. */
  async stop() {
    await Promise.all(this.list.map((replica) => stopReplica(replica)));
    try {
      await this.cluster?.stop();
    } finally {
      if (this.dataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  spawnReplica(index, env, port) {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const replica = {
      index,
      url: new URL(`http://127.0.0.1:${port}`),
      child,
      log: [],
      died: false,
    };
    const keep = (chunk) => {
      replica.log.push(chunk.toString());
      if (replica.log.length > LOG_CHUNKS) replica.log.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    replica.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    void replica.exited.then(() => (replica.died = true));
    return replica;
  }
}

/** Resolves once `replica.url` answers /healthz with 2xx; throws if it exits or the soak stops. */
export async function waitHealthy(replica, stopRequested = () => false) {
  const until = Date.now() + HEALTHY_WITHIN_MS;
  while (Date.now() < until) {
    if (replica.died) throw new Error(`replica ${replica.index} exited during start-up`);
    if (stopRequested()) throw new Error('interrupted during start-up');
    const ok = await fetch(new URL('/healthz', replica.url)).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`replica ${replica.index} (${replica.url}) did not become healthy`);
}

async function stopReplica(replica) {
  if (replica.died) return;
  replica.child.kill('SIGTERM');
  const timer = setTimeout(() => replica.child.kill('SIGKILL'), STOP_WITHIN_MS);
  await replica.exited;
  clearTimeout(timer);
}
