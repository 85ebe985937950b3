// Starting the servers a benchmark compares, on loopback only, each in its own temp dir.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLI = path.join(ROOT, 'bin/teamcache.js');
const PEER_VERSION = '2.12.0';
const PEER_DIR = path.join(ROOT, 'bench/.peer');

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function waitHealthy(url, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

/** `pid` and its node child processes (WORKERS=n workers; not PostgreSQL). */
function nodeProcesses(pid) {
  const children = fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
    .filter((child) => child && fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'node');
  return [String(pid), ...children.flatMap((child) => nodeProcesses(child))];
}

/** Peak resident memory so far, in MiB (Linux VmHWM), of the server's largest node process. */
export function peakRssMiB(pid) {
  return Math.max(
    ...nodeProcesses(pid).map((p) => {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      return Number(status.match(/VmHWM:\s+(\d+) kB/)[1]) / 1024;
    }),
  );
}

function stopper(child, dirs) {
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  };
}

/** The built teamcache (`npm run build` first) with an embedded PostgreSQL and fs or S3 storage. */
export async function startTeamcache({ env = {}, label = 'teamcache', nodeArgs = [] } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-bench-'));
  const port = await freePort();
  const base = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAX_ARTIFACT_SIZE: String(4 * 1024 ** 3), ...env };
  delete base.DATABASE_URL;
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'serve'], {
    env: { ...base, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/healthz`, child);
  const cli = (...args) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env: base, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  cli('teams', 'create', 'bench');
  const token = cli('tokens', 'issue', '--team', 'bench');
  // nx: it also serves the Nx self-hosted cache routes (/v1/cache/{hash}).
  return { label, url, token, pid: child.pid, nx: true, stop: stopper(child, [dataDir]) };
}

/** The reference: bench/lib/minimal-server.mjs (no auth, no database) in its own process. */
export async function startMinimalServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'minimal-bench-'));
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/lib/minimal-server.mjs'), String(port), dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/none`, child);
  return { label: 'minimal node:http', url, token: 'none', pid: child.pid, stop: stopper(child, [dir]) };
}

/** Forgets a process's peak RSS so far (Linux clear_refs), so the next VmHWM covers one phase. */
export function resetPeakRss(pid) {
  for (const p of nodeProcesses(pid)) fs.writeFileSync(`/proc/${p}/clear_refs`, '5');
}

/** ducktors/turborepo-remote-cache with local storage and a static token, installed on demand. */
export async function startPeer() {
  const bin = path.join(PEER_DIR, 'node_modules/turborepo-remote-cache/dist/cli.js');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(PEER_DIR, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', PEER_DIR, '--ignore-scripts', '--no-audit', '--no-fund',
      `turborepo-remote-cache@${PEER_VERSION}`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('could not install turborepo-remote-cache');
  }
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'peer-bench-'));
  const port = await freePort();
  const token = 'peer-bench-token';
  const child = spawn(process.execPath, [bin], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      TURBO_TOKEN: token,
      STORAGE_PROVIDER: 'local',
      STORAGE_PATH: storage,
      STORAGE_PATH_USE_TMP_FOLDER: 'false',
      BODY_LIMIT: String(4 * 1024 ** 3),
      LOG_LEVEL: 'warn',
      ENABLE_STATUS_LOG: 'false',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/v8/artifacts/status`, child);
  return { label: `turborepo-remote-cache ${PEER_VERSION}`, url, token, pid: child.pid, stop: stopper(child, [storage]) };
}
