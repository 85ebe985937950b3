#!/usr/bin/env node
// One large artifact up and down through the built server (`npm run build` first):
// wall time, throughput and the server's peak RSS (VmHWM), with every byte verified.
//   node bench/large-artifact.mjs [sizeMiB=1024]
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const sizeMiB = Number(process.argv[2] ?? 1024);
const size = sizeMiB * 1024 * 1024;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const cli = path.join(root, 'bin/teamcache.js');
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-bench-'));
const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', MAX_ARTIFACT_SIZE: String(size) };
delete env.DATABASE_URL;

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = s.address();
    s.close(() => resolve(free));
  });
});
const cliRun = (...args) => {
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
};

const server = spawn(process.execPath, [cli, 'serve'], {
  env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
  stdio: 'inherit',
});
try {
  await waitHealthy(`http://127.0.0.1:${port}/healthz`);
  cliRun('teams', 'create', 'bench');
  const token = cliRun('tokens', 'issue', '--team', 'bench');
  const hash = randomBytes(8).toString('hex');
  const chunk = randomBytes(1024 * 1024);

  const upStart = process.hrtime.bigint();
  const sentDigest = await upload(port, token, hash, chunk);
  const upSeconds = Number(process.hrtime.bigint() - upStart) / 1e9;

  const downStart = process.hrtime.bigint();
  const gotDigest = await download(port, token, hash);
  const downSeconds = Number(process.hrtime.bigint() - downStart) / 1e9;

  const peak = fs.readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/)[1];
  const mb = size / 1e6;
  console.log(JSON.stringify({
    sizeMiB,
    upload: { seconds: +upSeconds.toFixed(2), MBps: +(mb / upSeconds).toFixed(1) },
    download: { seconds: +downSeconds.toFixed(2), MBps: +(mb / downSeconds).toFixed(1) },
    bytesVerified: sentDigest === gotDigest,
    serverPeakRssMiB: +(Number(peak) / 1024).toFixed(1),
  }, null, 2));
  if (sentDigest !== gotDigest) process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  fs.rmSync(dataDir, { recursive: true, force: true });
}

async function waitHealthy(url) {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('server did not start');
}

function upload(port, token, hash, chunk) {
  return new Promise((resolve, reject) => {
    const digest = createHash('sha256');
    const req = http.request({
      host: '127.0.0.1', port, method: 'PUT', path: `/v8/artifacts/${hash}`,
      headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 202 ? resolve(digest.digest('hex')) : reject(new Error(`PUT ${res.statusCode}`))));
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += piece.length;
        digest.update(piece);
        if (!req.write(piece)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

function download(port, token, hash) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `/v8/artifacts/${hash}`, headers: { Authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET ${res.statusCode}`));
      const digest = createHash('sha256');
      res.on('data', (c) => digest.update(c));
      res.on('end', () => resolve(digest.digest('hex')));
    }).on('error', reject);
  });
}
