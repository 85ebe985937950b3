import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase } from '../support/test-database';
import {
  isAlive,
  makeDataDir,
  postmasterPid,
  runCli,
  ServerProcess,
} from '../support/server-process';
import { sleep } from '../support/wait';

const appliedMigrations = (logs: string) => (logs.match(/applied migration/g) ?? []).length;

describe('teamcache serve (the built CLI, as `npm start` runs it)', () => {
  jest.setTimeout(180_000);

  it('refuses an invalid PORT with one line naming it and a non-zero exit', () => {
    const dataDir = makeDataDir();
    const result = runCli(['serve'], { PORT: 'abc', DATA_DIR: dataDir });
    fs.rmSync(dataDir, { recursive: true, force: true });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'teamcache: Invalid configuration: PORT must be a port number between 1 and 65535 (got "abc")',
    ]);
  });

  describe('embedded PostgreSQL in DATA_DIR', () => {
    const dataDir = makeDataDir();
    afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it('starts with no setup, migrates once, and stops the database on SIGTERM', async () => {
      const server = await ServerProcess.start({ DATA_DIR: dataDir });
      expect(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      expect(appliedMigrations(server.logs())).toBeGreaterThan(0);
      const record = JSON.parse(fs.readFileSync(path.join(dataDir, 'postgres.json'), 'utf8'));
      expect(fs.statSync(path.join(dataDir, 'postgres.json')).mode & 0o777).toBe(0o600);
      expect(record).toMatchObject({ user: 'postgres', database: 'teamcache' });
      expect(postmasterPid(dataDir)).toBeDefined();
      // As root, PostgreSQL runs as `postgres`, which needs to enter the 0700 DATA_DIR.
      if (process.getuid?.() === 0) expect(fs.statSync(dataDir).mode & 0o777).toBe(0o701);

      expect(await server.stop('SIGTERM')).toBe(0);
      expect(postmasterPid(dataDir)).toBeUndefined();
    });

    it('keeps its data across restarts without re-applying migrations', async () => {
      const server = await ServerProcess.start({ DATA_DIR: dataDir });
      expect(appliedMigrations(server.logs())).toBe(0);
      expect(await server.stop('SIGINT')).toBe(0);
    });

    it('starts again after kill -9 (adopting the orphaned database)', async () => {
      const first = await ServerProcess.start({ DATA_DIR: dataDir });
      await first.stop('SIGKILL');
      const orphan = postmasterPid(dataDir);
      expect(orphan).toBeDefined();

      const second = await ServerProcess.start({ DATA_DIR: dataDir });
      expect(second.logs()).toContain('already running');
      expect(await second.stop()).toBe(0);
      expect(postmasterPid(dataDir)).toBeUndefined();
    });

    it('starts again when the database was killed too (stale postmaster.pid)', async () => {
      const first = await ServerProcess.start({ DATA_DIR: dataDir });
      const pid = postmasterPid(dataDir)!;
      await first.stop('SIGKILL');
      process.kill(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid));
      expect(fs.existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(true);

      const second = await ServerProcess.start({ DATA_DIR: dataDir });
      expect(await second.stop()).toBe(0);
    });

    it('lets an in-flight upload finish on SIGTERM, then stops', async () => {
      const server = await ServerProcess.start({ DATA_DIR: dataDir });
      expect(runCli(['teams', 'create', 'drain'], { DATA_DIR: dataDir }).status).toBe(0);
      const token = runCli(['tokens', 'issue', '--team', 'drain'], {
        DATA_DIR: dataDir,
      }).stdout.trim();
      const body = randomBytes(2 * 1024 * 1024);
      const hash = 'abcdef0123456789';

      const upload = slowPut(server.url, token, hash, body);
      await upload.halfSent;
      server.child.kill('SIGTERM');
      await sleep(500);
      upload.sendRest();
      expect(await upload.status).toBe(202);
      expect(await server.exited).toBe(0);

      const again = await ServerProcess.start({ DATA_DIR: dataDir });
      const res = await fetch(`${again.url}/v8/artifacts/${hash}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
      expect(await again.stop()).toBe(0);
    });

    it('serves from WORKERS=2 processes and stops them all on SIGTERM', async () => {
      const server = await ServerProcess.start({ DATA_DIR: dataDir, WORKERS: '2' });
      await waitFor(() => workersOf(server.child.pid!).length === 2);
      const workers = workersOf(server.child.pid!);
      for (let i = 0; i < 20; i++) {
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      }
      expect(await server.stop()).toBe(0);
      expect(workers.filter(isAlive)).toEqual([]);
      expect(postmasterPid(dataDir)).toBeUndefined();
    });

    it('`teamcache migrate` reaches the same database while the server is down', () => {
      const result = runCli(['migrate'], { DATA_DIR: dataDir });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('schema is up to date\n');
      expect(result.status).toBe(0);
      expect(postmasterPid(dataDir)).toBeUndefined();
    });
  });

  it('uses DATABASE_URL instead of an embedded database when it is set', async () => {
    const database = await createTestDatabase();
    const dataDir = makeDataDir();
    try {
      const server = await ServerProcess.start({
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        JWT_SECRET: 'x'.repeat(48),
      });
      expect(fs.existsSync(path.join(dataDir, 'postgres'))).toBe(false);
      const client = new Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query('SELECT count(*)::int AS n FROM migrations');
      await client.end();
      expect(rows[0].n).toBeGreaterThan(0);
      expect(await server.stop()).toBe(0);
    } finally {
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await sleep(100);
  }
}

/** A PUT that sends half its body, then waits to be told to send the rest. */
function slowPut(baseUrl: string, token: string, hash: string, body: Buffer) {
  const url = new URL(`/v8/artifacts/${hash}`, baseUrl);
  let sendRest = () => {};
  let halfSentResolve = () => {};
  const halfSent = new Promise<void>((r) => (halfSentResolve = r));
  const status = new Promise<number>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(body.length) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    const half = body.length / 2;
    req.write(body.subarray(0, half), () => halfSentResolve());
    sendRest = () => req.end(body.subarray(half));
  });
  return { halfSent, status, sendRest: () => sendRest() };
}

/** The node processes forked by a cluster primary (its children running teamcache). */
function workersOf(primaryPid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === primaryPid && isAlive(pid);
      } catch {
        return false;
      }
    });
}
