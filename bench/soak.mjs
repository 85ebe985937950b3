#!/usr/bin/env node
// Soak: N clients of several teams mix PUT/GET/HEAD/query/events (plus abandoned uploads and
// probes of other teams' artifacts) against the BUILT server for a bounded time, verifying every
// downloaded byte and every team boundary. Prints a JSON summary; exits 1 on any corrupt read,
// cross-team read, lost or half-visible artifact, or if the server dies.
//
//   node bench/soak.mjs [--seconds 600] [--clients 8] [--teams 3] [--same-body] [--think-ms 0]
//
// Without TEAMCACHE_URL it starts `node bin/teamcache.js serve` on 127.0.0.1 with a temp DATA_DIR
// (embedded PostgreSQL, fs blobs) and removes it afterwards. With TEAMCACHE_URL (loopback only)
// it soaks that server; the admin CLI then needs the server's DATA_DIR or DATABASE_URL in the
// environment to create the soak's teams. --same-body makes rewrites of a hash send the same
// bytes (for stores that write objects in place, such as s3rver).
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    clients: { type: 'string', default: '8' },
    teams: { type: 'string', default: '3' },
    'think-ms': { type: 'string', default: '0' },
    'same-body': { type: 'boolean', default: false },
  },
});
const SECONDS = positive('seconds');
const CLIENTS = positive('clients');
const TEAMS = Math.min(positive('teams'), CLIENTS);
const THINK_MS = Number(args['think-ms']);
const KiB = 1024;
const MiB = 1024 * KiB;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(ROOT, 'bin/teamcache.js');

function positive(name) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a whole number >= 1`);
  return value;
}

// ---- the server ------------------------------------------------------------------------------
let server;
let dataDir;
const serverLog = [];
const baseEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
let baseUrl = process.env.TEAMCACHE_URL;
if (baseUrl) {
  const { hostname } = new URL(baseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname)) {
    throw new Error(`TEAMCACHE_URL must point to this machine (127.0.0.1), got ${hostname}`);
  }
} else {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-soak-'));
  for (const key of ['DATABASE_URL', 'S3_ENDPOINT', 'JWT_SECRET']) delete baseEnv[key];
  baseEnv.DATA_DIR = dataDir;
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...baseEnv, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    serverLog.push(chunk.toString());
    if (serverLog.length > 200) serverLog.shift();
  };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
}
const target = new URL(baseUrl);
const serverExited = server
  ? new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })))
  : new Promise(() => {});
let serverDied = false;
void serverExited.then(() => (serverDied = true));

// ---- set-up ----------------------------------------------------------------------------------
async function waitHealthy() {
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    if (serverDied) throw new Error('the server exited during start-up');
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${baseUrl} did not become healthy`);
}

function cli(...cliArgs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...cliArgs], { env: baseEnv });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`teamcache ${cliArgs.join(' ')}: ${err}`)),
    );
  });
}

async function createTeams() {
  const suffix = randomBytes(3).toString('hex');
  const slugs = Array.from({ length: TEAMS }, (_, i) => `soak-${suffix}-${i}`);
  const created = await Promise.all(slugs.map((slug) => cli('teams', 'create', slug)));
  const tokens = await Promise.all(
    slugs.map((slug) => cli('tokens', 'issue', '--team', slug, '--name', 'soak')),
  );
  return slugs.map((slug, i) => ({
    slug,
    id: JSON.parse(created[i]).id,
    token: tokens[i],
    /** hash -> sha256 of every body wholly sent for it (any may be served). */
    bodies: new Map(),
    /** hashes whose PUT was acknowledged (202): must be served from then on. */
    confirmed: [],
    /** hashes of uploads abandoned mid-body and never retried: must never be visible. */
    abandoned: [],
  }));
}

// ---- the soak --------------------------------------------------------------------------------
async function soak(teams) {
  const stats = {
    requests: {},
    errors: {},
    latencies: [],
    corruptReads: 0,
    crossTeamReads: 0,
    lostArtifacts: 0,
    abandonedVisible: 0,
    bytesUp: 0,
    bytesDown: 0,
    problems: [],
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  let peakRss = null;
  const rssTimer = server ? setInterval(() => (peakRss = vmHwm() ?? peakRss), 1000) : null;

  const client = async (index) => {
    const team = teams[index % teams.length];
    const others = teams.filter((t) => t !== team);
    while (Date.now() < deadline && !serverDied) {
      const op = pickOp(team, others);
      try {
        await OPS[op](team, others, stats, agent);
      } catch (error) {
        count(stats.errors, `${op}:${error.code ?? error.message}`);
      }
      if (THINK_MS > 0) await sleep(THINK_MS);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  if (rssTimer) clearInterval(rssTimer);
  peakRss = vmHwm() ?? peakRss;

  for (const team of teams) await finalCheck(team, stats, agent);
  agent.destroy();

  const sorted = stats.latencies.sort((a, b) => a - b);
  const total = Object.values(stats.requests).reduce((a, b) => a + b, 0);
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    clients: CLIENTS,
    teams: TEAMS,
    requests: { total, ...stats.requests },
    requestsPerSecond: Math.round(total / ((Date.now() - started) / 1000)),
    errors: stats.errors,
    corruptReads: stats.corruptReads,
    crossTeamReads: stats.crossTeamReads,
    lostArtifacts: stats.lostArtifacts,
    abandonedVisible: stats.abandonedVisible,
    artifacts: teams.reduce((n, t) => n + t.confirmed.length, 0),
    mbUp: Math.round(stats.bytesUp / 1e6),
    mbDown: Math.round(stats.bytesDown / 1e6),
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? Math.round(sorted[sorted.length - 1]) : null,
    },
    serverPeakRssMiB: peakRss === null ? null : Math.round(peakRss / 1024),
    problems: stats.problems.slice(0, 20),
  };
}

function pickOp(team, others) {
  const r = Math.random();
  if (team.confirmed.length === 0 || r < 0.15) return 'put';
  if (r < 0.18) return 'rewrite';
  if (r < 0.2) return 'abandon';
  if (r < 0.6) return 'get';
  if (r < 0.7) return 'head';
  if (r < 0.8) return 'query';
  if (r < 0.85) return 'events';
  return others.some((t) => t.confirmed.length) ? 'probe' : 'get';
}

const OPS = {
  async put(team, _others, stats, agent) {
    const hash = randomBytes(8).toString('hex');
    await upload(team, hash, newBody(), 'put', stats, agent);
  },
  async rewrite(team, _others, stats, agent) {
    const hash = pick(team.confirmed);
    const body = args['same-body'] ? bodyFor(team, hash) : newBody();
    await upload(team, hash, body, 'rewrite', stats, agent);
  },
  async abandon(team, _others, stats) {
    const hash = randomBytes(8).toString('hex');
    team.abandoned.push(hash);
    count(stats.requests, 'abandon');
    await abandonUpload(team, hash, 64 * KiB + randomInt(MiB));
  },
  async get(team, _others, stats, agent) {
    const hash = pick(team.confirmed);
    const res = await request(agent, 'GET', `/v8/artifacts/${hash}`, team.token, stats, 'get');
    if (res.status === 404) return lost(stats, team, hash);
    if (res.status !== 200) return count(stats.errors, `get:${res.status}`);
    checkBody(stats, team, hash, res);
  },
  async head(team, _others, stats, agent) {
    const hash = pick(team.confirmed);
    const res = await request(agent, 'HEAD', `/v8/artifacts/${hash}`, team.token, stats, 'head');
    if (res.status === 404) return lost(stats, team, hash);
    if (res.status !== 200) return count(stats.errors, `head:${res.status}`);
    const sizes = team.bodies.get(hash).sizes;
    if (!sizes.has(Number(res.headers['content-length']))) {
      corrupt(
        stats,
        `HEAD ${team.slug}/${hash}: size ${res.headers['content-length']} never uploaded`,
      );
    }
  },
  async query(team, _others, stats, agent) {
    const known = Array.from({ length: 1 + randomInt(30) }, () => pick(team.confirmed));
    const unknown = Array.from({ length: randomInt(10) }, () => randomBytes(8).toString('hex'));
    const hashes = [...new Set([...known, ...unknown])];
    const res = await request(agent, 'POST', '/v8/artifacts', team.token, stats, 'query', {
      hashes,
    });
    if (res.status !== 200) return count(stats.errors, `query:${res.status}`);
    const answer = JSON.parse(res.body.toString());
    for (const hash of hashes) {
      const entry = answer[hash];
      const bodies = team.bodies.get(hash);
      if (!bodies) {
        if (entry !== null)
          corrupt(stats, `query ${team.slug}: unknown ${hash} answered ${JSON.stringify(entry)}`);
      } else if (entry === null) {
        lost(stats, team, hash);
      } else if (!bodies.sizes.has(entry.size)) {
        corrupt(stats, `query ${team.slug}/${hash}: size ${entry.size} never uploaded`);
      }
    }
  },
  async events(team, _others, stats, agent) {
    const sessionId = randomUUID();
    const batch = Array.from({ length: 1 + randomInt(10) }, () => ({
      sessionId,
      source: Math.random() < 0.5 ? 'LOCAL' : 'REMOTE',
      event: Math.random() < 0.7 ? 'HIT' : 'MISS',
      hash: pick(team.confirmed),
      duration: randomInt(5_000),
    }));
    const res = await request(
      agent,
      'POST',
      '/v8/artifacts/events',
      team.token,
      stats,
      'events',
      batch,
    );
    if (res.status !== 200) count(stats.errors, `events:${res.status}`);
  },
  /** Another team's artifact, asked for with our token: never visible, whatever the route. */
  async probe(team, others, stats, agent) {
    const owner = pick(others.filter((t) => t.confirmed.length));
    const hash = pick(owner.confirmed);
    const way = randomInt(5);
    const leak = (what) => {
      stats.crossTeamReads += 1;
      stats.problems.push(`${team.slug} saw ${owner.slug}/${hash} via ${what}`);
    };
    if (way === 0 || way === 1) {
      const method = way === 0 ? 'GET' : 'HEAD';
      const res = await request(agent, method, `/v8/artifacts/${hash}`, team.token, stats, 'probe');
      if (res.status !== 404) leak(`${method} (${res.status})`);
    } else if (way === 2) {
      const res = await request(agent, 'POST', '/v8/artifacts', team.token, stats, 'probe', {
        hashes: [hash],
      });
      const answer = res.status === 200 ? JSON.parse(res.body.toString()) : null;
      if (res.status !== 200 || answer[hash] !== null) leak(`query (${res.status} ${res.body})`);
    } else {
      const query = way === 3 ? `?slug=${owner.slug}` : `?teamId=${owner.id}`;
      const res = await request(
        agent,
        'GET',
        `/v8/artifacts/${hash}${query}`,
        team.token,
        stats,
        'probe',
      );
      if (res.status !== 403) leak(`GET ${query} (${res.status})`);
    }
  },
};

async function upload(team, hash, body, kind, stats, agent) {
  const digest = sha256(body);
  // Recorded before sending: a body sent whole may become visible even if the answer is lost.
  const known = team.bodies.get(hash) ?? { digests: new Set(), sizes: new Set() };
  known.digests.add(digest);
  known.sizes.add(body.length);
  team.bodies.set(hash, known);
  const res = await request(agent, 'PUT', `/v8/artifacts/${hash}`, team.token, stats, kind, body, {
    'x-artifact-duration': String(randomInt(10_000)),
    'x-artifact-tag': digest.slice(0, 44),
  });
  if (res.status !== 202) return count(stats.errors, `${kind}:${res.status}`);
  if (!team.confirmed.includes(hash)) team.confirmed.push(hash);
}

function checkBody(stats, team, hash, res) {
  const known = team.bodies.get(hash);
  const digest = sha256(res.body);
  if (!res.complete || res.body.length !== Number(res.headers['content-length'])) {
    corrupt(
      stats,
      `GET ${team.slug}/${hash}: ${res.body.length} of ${res.headers['content-length']} bytes`,
    );
  } else if (!known.digests.has(digest)) {
    corrupt(stats, `GET ${team.slug}/${hash}: ${res.body.length} bytes that were never uploaded`);
  }
}

/** The newest 100 and 200 random acknowledged artifacts, whole; every abandoned upload, absent. */
async function finalCheck(team, stats, agent) {
  const sample = new Set(team.confirmed.slice(-100));
  for (let i = 0; i < 200 && team.confirmed.length; i += 1) sample.add(pick(team.confirmed));
  for (const hash of sample) {
    const res = await request(agent, 'GET', `/v8/artifacts/${hash}`, team.token, stats, 'final');
    if (res.status !== 200) lost(stats, team, hash);
    else checkBody(stats, team, hash, res);
  }
  for (let i = 0; i < team.abandoned.length; i += 500) {
    const hashes = team.abandoned.slice(i, i + 500);
    const res = await request(agent, 'POST', '/v8/artifacts', team.token, stats, 'final', {
      hashes,
    });
    const answer = JSON.parse(res.body.toString());
    for (const hash of hashes) {
      if (answer[hash] !== null) {
        stats.abandonedVisible += 1;
        stats.problems.push(`abandoned upload ${team.slug}/${hash} is visible`);
      }
    }
  }
}

// ---- HTTP ------------------------------------------------------------------------------------
function request(agent, method, urlPath, token, stats, kind, payload, extraHeaders = {}) {
  const isJson = payload !== undefined && !Buffer.isBuffer(payload);
  const body = isJson ? Buffer.from(JSON.stringify(payload)) : payload;
  const headers = { Authorization: `Bearer ${token}`, ...extraHeaders };
  if (body !== undefined) {
    headers['Content-Length'] = String(body.length);
    headers['Content-Type'] = isJson ? 'application/json' : 'application/octet-stream';
    stats.bytesUp += body.length;
  }
  count(stats.requests, kind);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, method, path: urlPath, headers, agent },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          stats.latencies.push(performance.now() - started);
          const received = Buffer.concat(chunks);
          stats.bytesDown += received.length;
          resolve({
            status: res.statusCode,
            headers: res.headers,
            body: received,
            complete: res.complete,
          });
        });
      },
    );
    req.setTimeout(60_000, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A PUT that sends part of its body and vanishes, like a CI job killed mid-upload. */
function abandonUpload(team, hash, declared) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(target.port), target.hostname, () => {
      socket.write(
        `PUT /v8/artifacts/${hash} HTTP/1.1\r\nHost: ${target.host}\r\n` +
          `Authorization: Bearer ${team.token}\r\nContent-Length: ${declared}\r\n\r\n`,
      );
      socket.write(randomBytes(randomInt(declared)), () =>
        setTimeout(() => socket.destroy(), randomInt(30)),
      );
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

// ---- small helpers ---------------------------------------------------------------------------
/** Mostly small artifacts, some of a few hundred KiB, a few of megabytes. */
function newBody() {
  const r = Math.random();
  if (r < 0.85) return randomBytes(1 + randomInt(64 * KiB));
  if (r < 0.99) return randomBytes(64 * KiB + randomInt(MiB));
  return randomBytes(2 * MiB + randomInt(4 * MiB));
}

/** For --same-body rewrites: the bytes of the hash's first body, kept by seed. */
const firstBodies = new Map();
function bodyFor(team, hash) {
  const key = `${team.slug}/${hash}`;
  if (!firstBodies.has(key)) firstBodies.set(key, newBody());
  return firstBodies.get(key);
}

function corrupt(stats, problem) {
  stats.corruptReads += 1;
  stats.problems.push(problem);
}

function lost(stats, team, hash) {
  stats.lostArtifacts += 1;
  stats.problems.push(`acknowledged artifact ${team.slug}/${hash} is missing`);
}

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const pick = (list) => list[randomInt(list.length)];
const randomInt = (below) => Math.floor(Math.random() * below);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted, p) =>
  sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10
    : null;

function vmHwm() {
  try {
    const status = fs.readFileSync(`/proc/${server.pid}/status`, 'utf8');
    return Number(status.match(/VmHWM:\s+(\d+) kB/)[1]);
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Last, so that every declaration above is initialised when it runs.
async function main() {
  try {
    await waitHealthy();
    const teams = await createTeams();
    const summary = await soak(teams);
    const failed =
      summary.corruptReads > 0 ||
      summary.crossTeamReads > 0 ||
      summary.lostArtifacts > 0 ||
      summary.abandonedVisible > 0 ||
      serverDied;
    summary.serverDied = serverDied;
    summary.ok = !failed;
    console.log(JSON.stringify(summary, null, 2));
    if (failed) {
      if (serverLog.length) console.error(serverLog.join('').slice(-4000));
      process.exitCode = 1;
    }
  } catch (error) {
    console.error(`soak failed: ${error.stack ?? error}`);
    if (serverLog.length) console.error(serverLog.join('').slice(-4000));
    process.exitCode = 1;
  } finally {
    if (server && !serverDied) {
      server.kill('SIGTERM');
      await serverExited;
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
