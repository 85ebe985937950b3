#!/usr/bin/env node
// Side-by-side benchmark: teamcache (fs storage, embedded PostgreSQL, auth on every request)
// against turborepo-remote-cache (local storage, static token), same load generator, same
// machine, same run; teamcache on S3 (s3rver on loopback) as information. Prints ratios.
// Transfers are also run against a minimal node:http server, the machine's own ceiling.
// Misses are measured with GET: autocannon waits for a body after a HEAD answer that carries a
// Content-Length, so HEAD cannot be measured with it. On each teamcache, the Nx routes
// (/v1/cache/{hash}) are loaded next to the turbo routes, in the same way: Nx / turbo ratios.
// --small-gets: only the small GET loads (hits and misses), no transfers.
//   npm run bench -- [--duration 10] [--connections 64] [--large-mib 1024] [--workers 1] [--no-s3]
//                    [--small-gets]
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { peakRssMiB, resetPeakRss, startMinimalServer, startPeer, startTeamcache } from './lib/servers.mjs';
import { NX, putSmall, TURBO } from './lib/routes.mjs';
import { download, sha256Of, upload } from './lib/transfer.mjs';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    'transfer-mib': { type: 'string', default: '100' },
    'large-mib': { type: 'string', default: '1024' },
    workers: { type: 'string', default: '1' },
    'no-s3': { type: 'boolean', default: false },
    'small-gets': { type: 'boolean', default: false },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const MiB = 1024 * 1024;
const TRANSFER = Number(opts['transfer-mib']) * MiB;
const LARGE = Number(opts['large-mib']) * MiB;
const CHUNK = randomBytes(MiB);
const QUERY = '?slug=bench';
const SMALL_GETS_ONLY = opts['small-gets'];

const hex = () => randomBytes(8).toString('hex');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * autocannon with one thread tops out near 8k req/s on this class of machine whatever the
 * server: that measures the client. With `threads` 2 it uses every core, and the server that
 * needs less CPU per request keeps more of them: that measures the server.
 */
async function load(server, hash, threads = 1, duration = DURATION, route = TURBO) {
  const result = await autocannon({
    url: `${server.url}${route.path(hash)}`,
    method: 'GET',
    connections: CONNECTIONS,
    duration,
    headers: { Authorization: `Bearer ${server.token}` },
    ...(threads > 1 ? { workers: threads } : {}),
  });
  const expected = hash !== route.miss ? 200 : undefined;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + (expected ? result.non2xx : 0),
  };
}

/** Timed PUT then GET without hashing (the client shares the cores), verified afterwards. */
async function timedTransfer(server, hash, size) {
  let t = process.hrtime.bigint();
  await upload(server.url, server.token, hash, size, CHUNK, QUERY);
  const up = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const bytes = await download(server.url, server.token, hash, QUERY, { hash: false });
  const down = Number(process.hrtime.bigint() - t) / 1e9;
  if (bytes !== size) throw new Error(`${server.label}: downloaded ${bytes} of ${size} bytes`);
  if ((await download(server.url, server.token, hash, QUERY)) !== sha256Of(size, CHUNK)) {
    throw new Error(`${server.label}: downloaded bytes differ`);
  }
  return { up, down };
}

/** The limit: streaming the same bytes from one file to another, fsynced, on this disk. */
async function rawDiskCopy(size) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-bench-'));
  const source = path.join(dir, 'source');
  const fd = fs.openSync(source, 'w');
  for (let written = 0; written < size; written += CHUNK.length) fs.writeSync(fd, CHUNK);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  // This VM's disk copy ranges from 350 to 1500 MiB/s between runs: the median of five.
  const rates = [];
  for (let i = 0; i < 5; i++) {
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

/**
 * Every measurement runs on each server in turn (this machine's speed drifts by 2x over
 * minutes): ratios compare neighbours in time, not the start of the run with its end.
 * `--duration` is the load time per server and measurement, in two halves.
 */
async function measureAll(servers, reference) {
  const results = new Map([...servers, reference].filter(Boolean).map((server) => [server, {}]));
  const each = async (what, fn) => {
    for (const server of servers) {
      console.error(`${what}: ${server.label} ...`);
      results.get(server)[what] = await fn(server);
    }
  };
  // Every server's turbo routes; a teamcache's Nx routes right after its turbo routes. The same
  // 10 KiB body is the small hit of both.
  const targets = servers.flatMap((server) => [
    { server, route: TURBO, small: hex() },
    ...(server.nx ? [{ server, route: NX, small: NX.newHash() }] : []),
  ]);
  for (const { server, route, small } of targets) {
    if (route === TURBO) await upload(server.url, server.token, small, 10 * 1024, CHUNK, QUERY);
    else await putSmall(server, route, small, CHUNK.subarray(0, 10 * 1024));
  }
  const labelOf = ({ server, route }) => (route === TURBO ? server.label : `${server.label} Nx`);
  // Loads run in two halves, the targets in order then in reverse (A B B A), so a slow spell
  // of the machine weighs on every server and route alike; the halves are averaged.
  const loads = async (what, hit, threads) => {
    const halves = new Map(targets.map((target) => [target, []]));
    for (const order of [targets, [...targets].reverse()]) {
      for (const target of order) {
        console.error(`${what}: ${labelOf(target)} ...`);
        const hash = hit ? target.small : target.route.miss;
        halves.get(target).push(await load(target.server, hash, threads, DURATION / 2, target.route));
      }
    }
    for (const target of targets) {
      const [a, b] = halves.get(target);
      const server = results.get(target.server);
      const into = target.route === TURBO ? server : (server.nx ??= {});
      into[what] = {
        rps: (a.rps + b.rps) / 2,
        p99: (a.p99 + b.p99) / 2,
        errors: a.errors + b.errors,
      };
    }
  };
  // Warm-up, not measured: JIT, connection pools, the first verification of the token.
  for (const target of targets) {
    console.error(`warm-up: ${labelOf(target)} ...`);
    await load(target.server, target.small, 1, 2, target.route);
    await load(target.server, target.route.miss, 1, 2, target.route);
  }
  await loads('hit', true, 1);
  await loads('getMiss', false, 1);
  await loads('hit2', true, 2);
  await loads('getMiss2', false, 2);
  if (SMALL_GETS_ONLY) return { summaries: servers.map((server) => results.get(server)), reference: null };
  // The reference only moves bytes: it takes part in the transfers only.
  const movers = [...servers, reference];
  const rounds = new Map(movers.map((server) => [server, { up: [], down: [] }]));
  for (let round = 0; round < 3; round++) {
    for (const server of movers) {
      console.error(`${TRANSFER / MiB} MiB transfer ${round + 1}/3: ${server.label} ...`);
      const seconds = await timedTransfer(server, hex(), TRANSFER);
      rounds.get(server).up.push(TRANSFER / MiB / seconds.up);
      rounds.get(server).down.push(TRANSFER / MiB / seconds.down);
    }
  }
  for (const server of movers) {
    const { up, down } = rounds.get(server);
    results.get(server).transfer = { up: median(up), down: median(down) };
  }
  // The peak RSS of the large transfer alone, then of the whole run.
  await each('large', async (server) => {
    const runPeak = peakRssMiB(server.pid);
    resetPeakRss(server.pid);
    const large = await timedTransfer(server, hex(), LARGE);
    const largeRss = peakRssMiB(server.pid);
    return { up: large.up, down: large.down, rss: largeRss, peakRss: Math.max(runPeak, largeRss) };
  });
  const summaries = servers.map((server) => {
    const r = results.get(server);
    return { ...r, largeUp: r.large.up, largeDown: r.large.down, largeRss: r.large.rss, peakRss: r.large.peakRss };
  });
  return { summaries, reference: results.get(reference).transfer };
}

if (!SMALL_GETS_ONLY) console.error(`disk copy, ${TRANSFER / MiB} MiB ...`);
const disk = SMALL_GETS_ONLY ? null : await rawDiskCopy(TRANSFER);
const WORKERS = { WORKERS: opts.workers };
const started = [];
let s3rver;
let s3dir;
let ours, peer, s3, minimal;
try {
  started.push(await startTeamcache({ label: 'teamcache (fs)', env: WORKERS }));
  started.push(await startPeer());
  if (!opts['no-s3']) {
    const { default: S3rver } = await import('s3rver');
    s3dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-bench-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir });
    const { port } = await s3rver.run();
    started.push(
      await startTeamcache({
        label: 'teamcache (s3rver)',
        env: { ...WORKERS, S3_ENDPOINT: '127.0.0.1', S3_PORT: String(port), S3_USE_SSL: 'false', S3_ACCESS_KEY: 'S3RVER', S3_SECRET_KEY: 'S3RVER', S3_BUCKET: 'bench' },
      }),
    );
  }
  const reference = SMALL_GETS_ONLY ? null : await startMinimalServer();
  const servers = [...started];
  if (reference) started.push(reference);
  let summaries;
  ({ summaries, reference: minimal } = await measureAll(servers, reference));
  [ours, peer, s3] = summaries;
} finally {
  for (const server of started) await server.stop();
  await s3rver?.close();
  if (s3dir) fs.rmSync(s3dir, { recursive: true, force: true });
}

const f = (n, d = 0) => n.toFixed(d);
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const getRows = [
  ['GET hit 10 KiB, req/s (1 load thread)', ours.hit.rps, peer.hit.rps, (a, b) => a / b >= 1.0, 0],
  ['GET hit 10 KiB, p99 ms (1 load thread)', ours.hit.p99, peer.hit.p99, () => true, 1],
  ['GET miss, req/s (1 load thread)', ours.getMiss.rps, peer.getMiss.rps, () => true, 0],
  ['GET miss, p99 ms (1 load thread)', ours.getMiss.p99, peer.getMiss.p99, (a, b) => a / b <= 1.0, 1],
  ['GET hit 10 KiB, req/s (2 load threads)', ours.hit2.rps, peer.hit2.rps, (a, b) => a / b >= 1.0, 0],
  ['GET hit 10 KiB, p99 ms (2 load threads)', ours.hit2.p99, peer.hit2.p99, () => true, 1],
  ['GET miss, req/s (2 load threads)', ours.getMiss2.rps, peer.getMiss2.rps, () => true, 0],
  ['GET miss, p99 ms (2 load threads)', ours.getMiss2.p99, peer.getMiss2.p99, (a, b) => a / b <= 1.0, 1],
];
const transferRows = SMALL_GETS_ONLY ? [] : [
  [`PUT ${TRANSFER / MiB} MiB, MiB/s`, ours.transfer.up, peer.transfer.up, (a, b) => a / b >= 2 && a / disk >= 0.7, 0],
  [`GET ${TRANSFER / MiB} MiB, MiB/s`, ours.transfer.down, peer.transfer.down, (a, b) => a / b >= 2 && a / disk >= 0.7, 0],
  [`PUT ${LARGE / MiB} MiB, s`, ours.largeUp, peer.largeUp, () => true, 2],
  [`GET ${LARGE / MiB} MiB, s`, ours.largeDown, peer.largeDown, () => true, 2],
  [`server peak RSS during the ${LARGE / MiB} MiB transfer, MiB`, ours.largeRss, peer.largeRss, (a) => a < 200, 0],
  ['server peak RSS over the whole run, MiB', ours.peakRss, peer.peakRss, () => true, 0],
];
const pct = (a, b) => `${((a / b) * 100).toFixed(0)}%`;
const lines = [
  `| measure (${CONNECTIONS} connections, ${DURATION} s each) | teamcache | peer | teamcache / peer | vs disk copy | vs minimal server | target |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...[...getRows, ...transferRows].map(([name, a, b, ok, d]) => {
    const vs = name.includes('MiB/s')
      ? `${pct(a, disk)} | ${pct(a, name.startsWith('PUT') ? minimal.up : minimal.down)}`
      : ' | ';
    return `| ${name} | ${f(a, d)} | ${f(b, d)} | ${ratio(a, b)} | ${vs} | ${ok(a, b) ? 'met' : 'MISSED'} |`;
  }),
];
if (!SMALL_GETS_ONLY) {
  lines.push(`| raw disk copy (fsynced), MiB/s | ${f(disk)} | | | 100% | | |`,
    `| minimal node:http server to/from a file (fsynced), PUT / GET MiB/s | ${f(minimal.up)} / ${f(minimal.down)} | | | ${pct(minimal.up, disk)} / ${pct(minimal.down, disk)} | 100% | |`);
}
if (s3) {
  lines.push('', '| teamcache on s3rver (information) | value |', '| --- | --- |',
    `| GET hit 10 KiB, req/s / p99 ms (1 load thread) | ${f(s3.hit.rps)} / ${f(s3.hit.p99, 1)} |`,
    `| GET miss, req/s / p99 ms (1 load thread) | ${f(s3.getMiss.rps)} / ${f(s3.getMiss.p99, 1)} |`,
    `| GET hit 10 KiB, req/s / p99 ms (2 load threads) | ${f(s3.hit2.rps)} / ${f(s3.hit2.p99, 1)} |`,
    `| GET miss, req/s / p99 ms (2 load threads) | ${f(s3.getMiss2.rps)} / ${f(s3.getMiss2.p99, 1)} |`);
  if (!SMALL_GETS_ONLY) {
    lines.push(`| PUT / GET ${TRANSFER / MiB} MiB, MiB/s | ${f(s3.transfer.up)} / ${f(s3.transfer.down)} |`,
      `| PUT / GET ${LARGE / MiB} MiB, s | ${f(s3.largeUp, 2)} / ${f(s3.largeDown, 2)} |`,
      `| server peak RSS: ${LARGE / MiB} MiB transfer / whole run, MiB | ${f(s3.largeRss)} / ${f(s3.peakRss)} |`);
  }
}
// The Nx routes against the turbo routes of the same server, loaded next to each other.
const NX_SLACK = 0.1;
const nxRows = (r) => [
  ['GET hit 10 KiB, req/s (1 load thread)', r.nx.hit.rps, r.hit.rps, (a, b) => a / b >= 1 - NX_SLACK, 0],
  ['GET hit 10 KiB, p99 ms (1 load thread)', r.nx.hit.p99, r.hit.p99, (a, b) => a / b <= 1 + NX_SLACK, 1],
  ['GET miss, req/s (1 load thread)', r.nx.getMiss.rps, r.getMiss.rps, (a, b) => a / b >= 1 - NX_SLACK, 0],
  ['GET miss, p99 ms (1 load thread)', r.nx.getMiss.p99, r.getMiss.p99, (a, b) => a / b <= 1 + NX_SLACK, 1],
  ['GET hit 10 KiB, req/s (2 load threads)', r.nx.hit2.rps, r.hit2.rps, (a, b) => a / b >= 1 - NX_SLACK, 0],
  ['GET hit 10 KiB, p99 ms (2 load threads)', r.nx.hit2.p99, r.hit2.p99, (a, b) => a / b <= 1 + NX_SLACK, 1],
  ['GET miss, req/s (2 load threads)', r.nx.getMiss2.rps, r.getMiss2.rps, (a, b) => a / b >= 1 - NX_SLACK, 0],
  ['GET miss, p99 ms (2 load threads)', r.nx.getMiss2.p99, r.getMiss2.p99, (a, b) => a / b <= 1 + NX_SLACK, 1],
];
for (const [label, r] of [['teamcache (fs)', ours], ['teamcache on s3rver', s3]]) {
  if (!r) continue;
  lines.push('', `| ${label}: Nx routes vs turbo routes | Nx | turbo | Nx / turbo | target (within ${NX_SLACK * 100}%) |`,
    '| --- | --- | --- | --- | --- |',
    ...nxRows(r).map(([name, a, b, ok, d]) => `| Nx ${name} | ${f(a, d)} | ${f(b, d)} | ${ratio(a, b)} | ${ok(a, b) ? 'met' : 'MISSED'} |`));
}
const errors = [ours, ours.nx, peer].flatMap((r) => [r.hit, r.getMiss, r.hit2, r.getMiss2].map((m) => m.errors));
lines.push('', `machine: ${os.cpus().length} x ${os.cpus()[0].model}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}; teamcache WORKERS=${opts.workers}; load errors: ${errors.join(', ')}`);
console.log(lines.join('\n'));
