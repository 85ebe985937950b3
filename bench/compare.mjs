#!/usr/bin/env node
// Misses are measured with GET: autocannon waits for a body after a HEAD answer that carries a
// Content-Length, so HEAD cannot be measured with it.
// Side-by-side benchmark: teamcache (fs storage, embedded PostgreSQL, auth on every request)
// against turborepo-remote-cache (local storage, static token), same load generator, same
// machine, same run; teamcache on S3 (s3rver on loopback) as information. Prints ratios.
//   npm run bench -- [--duration 10] [--connections 64] [--large-mib 1024] [--no-s3]
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { peakRssMiB, startPeer, startTeamcache } from './lib/servers.mjs';
import { download, upload } from './lib/transfer.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'transfer-mib': { type: 'string', default: '100' },
    'large-mib': { type: 'string', default: '1024' },
    'no-s3': { type: 'boolean', default: false },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const MiB = 1024 * 1024;
const TRANSFER = Number(opts['transfer-mib']) * MiB;
const LARGE = Number(opts['large-mib']) * MiB;
const CHUNK = randomBytes(MiB);
const QUERY = '?slug=bench';
// A hex hash that is never uploaded (a non-hex one would be a 400 for teamcache).
const MISS = 'ffffffffffffffff';

const hex = () => randomBytes(8).toString('hex');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function load(server, method, hash) {
  const result = await autocannon({
    url: `${server.url}/v8/artifacts/${hash}${QUERY}`,
    method,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const expected = method === 'GET' && hash !== MISS ? 200 : undefined;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + (expected ? result.non2xx : 0),
  };
}

async function transfers(server, size, rounds = 3) {
  const up = [];
  const down = [];
  for (let i = 0; i < rounds; i++) {
    const hash = hex();
    let t = process.hrtime.bigint();
    const sent = await upload(server.url, server.token, hash, size, CHUNK, QUERY);
    up.push(size / MiB / (Number(process.hrtime.bigint() - t) / 1e9));
    t = process.hrtime.bigint();
    const got = await download(server.url, server.token, hash, QUERY);
    down.push(size / MiB / (Number(process.hrtime.bigint() - t) / 1e9));
    if (sent !== got) throw new Error(`${server.label}: downloaded bytes differ`);
  }
  return { up: median(up), down: median(down) };
}

/** The limit: streaming the same bytes from one file to another, fsynced, on this disk. */
async function rawDiskCopy(size) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-bench-'));
  const source = path.join(dir, 'source');
  const fd = fs.openSync(source, 'w');
  for (let written = 0; written < size; written += CHUNK.length) fs.writeSync(fd, CHUNK);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const rates = [];
  for (let i = 0; i < 3; i++) {
    const t = process.hrtime.bigint();
    await new Promise((resolve, reject) =>
      fs.createReadStream(source, { highWaterMark: MiB })
        .pipe(fs.createWriteStream(path.join(dir, `copy${i}`), { flush: true }))
        .on('finish', resolve)
        .on('error', reject),
    );
    rates.push(size / MiB / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return median(rates);
}

async function measure(server) {
  const small = hex();
  await upload(server.url, server.token, small, 10 * 1024, CHUNK, QUERY);
  const hit = await load(server, 'GET', small);
  const getMiss = await load(server, 'GET', MISS);
  const transfer = await transfers(server, TRANSFER);
  const bigHash = hex();
  let t = process.hrtime.bigint();
  const sent = await upload(server.url, server.token, bigHash, LARGE, CHUNK, QUERY);
  const largeUp = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const got = await download(server.url, server.token, bigHash, QUERY);
  const largeDown = Number(process.hrtime.bigint() - t) / 1e9;
  if (sent !== got) throw new Error(`${server.label}: large artifact differs`);
  return { hit, getMiss, transfer, largeUp, largeDown, peakRss: peakRssMiB(server.pid) };
}

async function run(start) {
  const server = await start();
  try {
    return { label: server.label, ...(await measure(server)) };
  } finally {
    await server.stop();
  }
}

console.error(`disk copy, ${TRANSFER / MiB} MiB ...`);
const disk = await rawDiskCopy(TRANSFER);
console.error('teamcache (fs) ...');
const ours = await run(() => startTeamcache({ label: 'teamcache (fs)' }));
console.error('turborepo-remote-cache (local) ...');
const peer = await run(startPeer);
let s3;
if (!opts['no-s3']) {
  console.error('teamcache (s3rver) ...');
  const { default: S3rver } = await import('s3rver');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-bench-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const { port } = await s3rver.run();
  try {
    s3 = await run(() =>
      startTeamcache({
        label: 'teamcache (s3rver)',
        env: { S3_ENDPOINT: '127.0.0.1', S3_PORT: String(port), S3_USE_SSL: 'false', S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', S3_BUCKET: 'bench' },
      }),
    );
  } finally {
    await s3rver.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const f = (n, d = 0) => n.toFixed(d);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const rows = [
  ['GET hit 10 KiB, req/s', ours.hit.rps, peer.hit.rps, (a, b) => a / b >= 1.0, 0],
  ['GET hit 10 KiB, p99 ms', ours.hit.p99, peer.hit.p99, () => true, 1],
  ['GET miss, req/s', ours.getMiss.rps, peer.getMiss.rps, () => true, 0],
  ['GET miss, p99 ms', ours.getMiss.p99, peer.getMiss.p99, (a, b) => a / b <= 1.0, 1],
  [`PUT ${TRANSFER / MiB} MiB, MiB/s`, ours.transfer.up, peer.transfer.up, (a, b) => a / b >= 2 && a / disk >= 0.7, 0],
  [`GET ${TRANSFER / MiB} MiB, MiB/s`, ours.transfer.down, peer.transfer.down, (a, b) => a / b >= 2 && a / disk >= 0.7, 0],
  [`PUT ${LARGE / MiB} MiB, s`, ours.largeUp, peer.largeUp, () => true, 2],
  [`GET ${LARGE / MiB} MiB, s`, ours.largeDown, peer.largeDown, () => true, 2],
  ['server peak RSS, MiB', ours.peakRss, peer.peakRss, (a) => a < 200, 0],
];
const lines = [
  `| measure (${CONNECTIONS} connections, ${DURATION} s each) | teamcache | peer | teamcache / peer | vs disk copy | target |`,
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map(([name, a, b, ok, d]) => {
    const vsDisk = name.includes('MiB/s') ? `${((a / disk) * 100).toFixed(0)}%` : '';
    return `| ${name} | ${f(a, d)} | ${f(b, d)} | ${ratio(a, b)} | ${vsDisk} | ${ok(a, b) ? 'met' : 'MISSED'} |`;
  }),
  `| raw disk copy (fsynced), MiB/s | ${f(disk)} | | | 100% | |`,
];
if (s3) {
  lines.push('', '| teamcache on s3rver (information) | value |', '| --- | --- |',
    `| GET hit 10 KiB, req/s / p99 ms | ${f(s3.hit.rps)} / ${f(s3.hit.p99, 1)} |`,
    `| GET miss, req/s / p99 ms | ${f(s3.getMiss.rps)} / ${f(s3.getMiss.p99, 1)} |`,
    `| PUT / GET ${TRANSFER / MiB} MiB, MiB/s | ${f(s3.transfer.up)} / ${f(s3.transfer.down)} |`,
    `| PUT / GET ${LARGE / MiB} MiB, s | ${f(s3.largeUp, 2)} / ${f(s3.largeDown, 2)} |`,
    `| server peak RSS, MiB | ${f(s3.peakRss)} |`);
}
const errors = [ours, peer].flatMap((r) => [r.hit, r.getMiss].map((m) => m.errors));
lines.push('', `machine: ${os.cpus().length} x ${os.cpus()[0].model}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}; load errors: ${errors.join(', ')}`);
console.log(lines.join('\n'));
