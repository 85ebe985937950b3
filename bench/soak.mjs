#!/usr/bin/env node
// Soak: N clients of several teams mix PUT/GET/HEAD/query/events (plus abandoned uploads and
// probes of other teams' artifacts) against the BUILT server for a bounded time, verifying every
// downloaded byte, the tag and duration served with it, and every team boundary. Prints a JSON
// summary; exits 1 on any corrupt read, cross-team read, lost, mixed or half-visible artifact,
// replicas that still disagree after the soak, or if a server dies.
//
//   node bench/soak.mjs [--seconds 600] [--clients 8] [--teams 3] [--replicas 1] [--same-body]
//                       [--think-ms 0]
//
// Without TEAMCACHE_URL it starts `node bin/teamcache.js serve` on 127.0.0.1 with a temp DATA_DIR
// (embedded PostgreSQL, fs blobs) and removes it afterwards. --replicas N starts N such servers
// sharing one PostgreSQL (a scratch embedded cluster, as DATABASE_URL), one blob directory and one
// JWT_SECRET; client i writes through replica i % N and reads from it or another replica. An
// upload may stay unseen on another replica for up to STALE_MS after its 202: such a miss is
// counted as a stale miss, not a lost artifact. With TEAMCACHE_URL (loopback only) it soaks that
// one server; the admin CLI then needs the server's DATA_DIR or DATABASE_URL in the environment
// to create the soak's teams. --same-body makes rewrites of a hash send the same bytes (for
// stores that write objects in place, such as s3rver). Every PUT sends x-artifact-tag (base64
// sha256 of the body) and x-artifact-duration (the body's size), so that a read can tell whether
// the headers it got belong to the bytes (or size) it got.
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Replicas, waitHealthy } from './lib/replicas.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    clients: { type: 'string', default: '8' },
    teams: { type: 'string', default: '3' },
    replicas: { type: 'string', default: '1' },
    'think-ms': { type: 'string', default: '0' },
    'same-body': { type: 'boolean', default: false },
  },
});
const SECONDS = positive('seconds');
const CLIENTS = positive('clients');
const TEAMS = Math.min(positive('teams'), CLIENTS);
const REPLICAS = positive('replicas');
const THINK_MS = Number(args['think-ms']);
const KiB = 1024;
const MiB = 1024 * KiB;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const CLI = path.join(ROOT, 'bin/teamcache.js');
/**
 * How long after an upload's 202 another replica may still answer it absent: the server's
 * INDEX_RECHECK_MS (1 s, how long a process trusts a row or its absence) plus a margin.
 */
const STALE_MS = 1_500;
/** What pickRead counts as "the newest artifacts" of a team. */
const RECENT = 16;

function positive(name) {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`--${name} must be a whole number >= 1`);
  return value;
}

// ---- the servers -----------------------------------------------------------------------------
const baseEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
let replicas;
let fleet;
if (process.env.TEAMCACHE_URL) {
  const url = new URL(process.env.TEAMCACHE_URL);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new Error(`TEAMCACHE_URL must point to this machine (127.0.0.1), got ${url.hostname}`);
  }
  if (REPLICAS > 1) throw new Error('--replicas starts its own servers: unset TEAMCACHE_URL');
  replicas = [{ index: 0, url }];
} else {
  fleet = new Replicas(REPLICAS, baseEnv);
  replicas = fleet.list;
}
const serversDied = () => fleet?.died ?? false;

// SIGINT/SIGTERM end the soak early but still through its checks and clean-up (the shared
// PostgreSQL runs detached and would outlive us otherwise).
let stopRequested = false;
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (stopRequested = true));

// ---- set-up ----------------------------------------------------------------------------------
function cli(...cliArgs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...cliArgs], { env: fleet?.cliEnv ?? baseEnv });
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
    /** hash -> what was wholly sent for it (any of it may be served) and where it was acknowledged. */
    bodies: new Map(),
    /** hashes whose PUT was acknowledged (202): must be served from then on (see STALE_MS). */
    confirmed: [],
    /** hashes of uploads abandoned mid-body and never retried: must never be visible. */
    abandoned: [],
  }));
}

// ---- the soak --------------------------------------------------------------------------------
async function soak(teams) {
  const stats = {
    requests: {},
    requestsPerReplica: replicas.map(() => 0),
    errors: {},
    latencies: [],
    corruptReads: 0,
    crossTeamReads: 0,
    lostArtifacts: 0,
    staleMisses: 0,
    staleMissMaxMs: null,
    mixedArtifacts: 0,
    replicaDisagreements: 0,
    abandonedVisible: 0,
    crossReplicaReads: 0,
    bytesUp: 0,
    bytesDown: 0,
    problems: [],
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  const peakRss = replicas.map(() => null);
  const sampleRss = () => replicas.forEach((r, i) => (peakRss[i] = vmHwm(r) ?? peakRss[i]));
  const rssTimer = fleet ? setInterval(sampleRss, 1000) : null;

  const client = async (index) => {
    const team = teams[index % teams.length];
    const c = {
      team,
      others: teams.filter((t) => t !== team),
      stats,
      agent,
      home: replicas[index % replicas.length],
    };
    while (Date.now() < deadline && !serversDied() && !stopRequested) {
      const op = pickOp(team, c.others);
      try {
        await OPS[op](c);
      } catch (error) {
        count(stats.errors, `${op}:${error.code ?? error.message}`);
      }
      if (THINK_MS > 0) await sleep(THINK_MS);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
  if (rssTimer) clearInterval(rssTimer);
  if (fleet) sampleRss();

  // Past the staleness bound of the last upload, every replica must serve every artifact.
  await sleep(STALE_MS);
  for (const team of teams) await finalCheck(team, stats, agent);
  agent.destroy();

  const sorted = stats.latencies.sort((a, b) => a - b);
  const total = Object.values(stats.requests).reduce((a, b) => a + b, 0);
  const knownRss = peakRss.filter((kib) => kib !== null);
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    clients: CLIENTS,
    teams: TEAMS,
    replicas: replicas.length,
    requests: { total, ...stats.requests },
    requestsPerReplica: stats.requestsPerReplica,
    requestsPerSecond: Math.round(total / ((Date.now() - started) / 1000)),
    errors: stats.errors,
    corruptReads: stats.corruptReads,
    crossTeamReads: stats.crossTeamReads,
    lostArtifacts: stats.lostArtifacts,
    mixedArtifacts: stats.mixedArtifacts,
    replicaDisagreements: stats.replicaDisagreements,
    abandonedVisible: stats.abandonedVisible,
    staleMisses: stats.staleMisses,
    /** The latest stale miss, in ms after the artifact's first 202 (the margin to STALE_MS). */
    staleMissMaxMs: stats.staleMissMaxMs,
    crossReplicaReads: stats.crossReplicaReads,
    artifacts: teams.reduce((n, t) => n + t.confirmed.length, 0),
    mbUp: Math.round(stats.bytesUp / 1e6),
    mbDown: Math.round(stats.bytesDown / 1e6),
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: sorted.length ? Math.round(sorted[sorted.length - 1]) : null,
    },
    /** The largest replica's. */
    serverPeakRssMiB: knownRss.length ? Math.round(Math.max(...knownRss) / 1024) : null,
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

/** Each op gets its client `c`: { team, others, stats, agent, home (the replica it writes to) }. */
const OPS = {
  async put(c) {
    const hash = randomBytes(8).toString('hex');
    // As turbo does, half the time: look the hash up first (a miss the replica remembers).
    if (Math.random() < 0.5) await lookUpMiss(c, hash);
    await upload(c, hash, newBody(), 'put');
  },
  async rewrite(c) {
    const hash = pick(c.team.confirmed);
    const body = args['same-body'] ? bodyFor(c.team, hash) : newBody();
    await upload(c, hash, body, 'rewrite');
  },
  async abandon(c) {
    const hash = randomBytes(8).toString('hex');
    c.team.abandoned.push(hash);
    count(c.stats.requests, 'abandon');
    c.stats.requestsPerReplica[c.home.index] += 1;
    await abandonUpload(c.home, c.team, hash, 64 * KiB + randomInt(MiB));
  },
  async get(c) {
    const { team, stats } = c;
    const hash = pickRead(team);
    const replica = readReplica(c);
    const res = await ask(c, replica, 'get', 'GET', `/v8/artifacts/${hash}`);
    if (res.status === 404) return missing(stats, team, hash, replica, res.sentAt, 'GET');
    if (res.status !== 200) return count(stats.errors, `get:${res.status}`);
    checkBody(stats, team, hash, replica, res);
  },
  async head(c) {
    const { team, stats } = c;
    const hash = pickRead(team);
    const replica = readReplica(c);
    const res = await ask(c, replica, 'head', 'HEAD', `/v8/artifacts/${hash}`);
    if (res.status === 404) return missing(stats, team, hash, replica, res.sentAt, 'HEAD');
    if (res.status !== 200) return count(stats.errors, `head:${res.status}`);
    const size = Number(res.headers['content-length']);
    const where = `HEAD ${team.slug}/${hash} on replica ${replica.index}`;
    if (!team.bodies.get(hash).sizes.has(size)) {
      corrupt(stats, `${where}: size ${res.headers['content-length']} never uploaded`);
    } else {
      checkHeadersOfSize(stats, team, hash, where, size, res.headers);
    }
  },
  async query(c) {
    const { team, stats } = c;
    const known = Array.from({ length: 1 + randomInt(30) }, () => pickRead(team));
    const unknown = Array.from({ length: randomInt(10) }, () => randomBytes(8).toString('hex'));
    const hashes = [...new Set([...known, ...unknown])];
    const replica = readReplica(c);
    const res = await ask(c, replica, 'query', 'POST', '/v8/artifacts', { hashes });
    if (res.status !== 200) return count(stats.errors, `query:${res.status}`);
    const answer = JSON.parse(res.body.toString());
    for (const hash of hashes) {
      const entry = answer[hash];
      const bodies = team.bodies.get(hash);
      const where = `query ${team.slug}/${hash} on replica ${replica.index}`;
      if (!bodies) {
        if (entry !== null) corrupt(stats, `${where}: unknown, answered ${JSON.stringify(entry)}`);
      } else if (entry === null) {
        missing(stats, team, hash, replica, res.sentAt, 'query');
      } else if (!bodies.sizes.has(entry.size)) {
        corrupt(stats, `${where}: size ${entry.size} never uploaded`);
      } else {
        checkHeadersOfSize(stats, team, hash, where, entry.size, {
          'x-artifact-tag': entry.tag,
          'x-artifact-duration': String(entry.taskDurationMs),
        });
      }
    }
  },
  async events(c) {
    const { team } = c;
    const sessionId = randomUUID();
    const batch = Array.from({ length: 1 + randomInt(10) }, () => ({
      sessionId,
      source: Math.random() < 0.5 ? 'LOCAL' : 'REMOTE',
      event: Math.random() < 0.7 ? 'HIT' : 'MISS',
      hash: pick(team.confirmed),
      duration: randomInt(5_000),
    }));
    const res = await ask(c, readReplica(c), 'events', 'POST', '/v8/artifacts/events', batch);
    if (res.status !== 200) count(c.stats.errors, `events:${res.status}`);
  },
  /** Another team's artifact, asked for with our token: never visible, whatever the route. */
  async probe(c) {
    const { team, stats } = c;
    const owner = pick(c.others.filter((t) => t.confirmed.length));
    const hash = pick(owner.confirmed);
    const replica = readReplica(c);
    const way = randomInt(5);
    const leak = (what) => {
      stats.crossTeamReads += 1;
      stats.problems.push(`${team.slug} saw ${owner.slug}/${hash} via ${what}`);
    };
    const probe = (method, urlPath, payload) => ask(c, replica, 'probe', method, urlPath, payload);
    if (way === 0 || way === 1) {
      const method = way === 0 ? 'GET' : 'HEAD';
      const res = await probe(method, `/v8/artifacts/${hash}`);
      if (res.status !== 404) leak(`${method} (${res.status})`);
    } else if (way === 2) {
      const res = await probe('POST', '/v8/artifacts', { hashes: [hash] });
      const answer = res.status === 200 ? JSON.parse(res.body.toString()) : null;
      if (res.status !== 200 || answer[hash] !== null) leak(`query (${res.status} ${res.body})`);
    } else {
      const query = way === 3 ? `?slug=${owner.slug}` : `?teamId=${owner.id}`;
      const res = await probe('GET', `/v8/artifacts/${hash}${query}`);
      if (res.status !== 403) leak(`GET ${query} (${res.status})`);
    }
  },
};

/** A hash not uploaded yet: GET or HEAD must answer 404. */
async function lookUpMiss(c, hash) {
  const replica = readReplica(c);
  const method = Math.random() < 0.5 ? 'GET' : 'HEAD';
  const res = await ask(c, replica, 'lookup', method, `/v8/artifacts/${hash}`);
  if (res.status === 404) return;
  const where = `${method} ${c.team.slug}/${hash} on replica ${replica.index}`;
  corrupt(c.stats, `${where}: ${res.status} before any upload of it`);
}

/** Half the reads ask for one of the newest artifacts, as CI does right after a build. */
function pickRead(team) {
  return Math.random() < 0.5 ? pick(team.confirmed.slice(-RECENT)) : pick(team.confirmed);
}

/** Reads go to the client's own replica half of the time, else to another one. */
function readReplica(c) {
  if (replicas.length === 1 || Math.random() < 0.5) return c.home;
  c.stats.crossReplicaReads += 1;
  return replicas[(c.home.index + 1 + randomInt(replicas.length - 1)) % replicas.length];
}

async function upload(c, hash, body, kind) {
  const { team, stats } = c;
  const digest = sha256(body);
  const tag = tagOf(digest);
  // Recorded before sending: a body sent whole may become visible even if the answer is lost.
  const known = team.bodies.get(hash) ?? {
    digests: new Set(),
    sizes: new Set(),
    /** tag -> size of the body it was sent with */
    tags: new Map(),
    /** when the first 202 for this hash arrived */
    firstAckAt: null,
    /** replica index -> when it first answered 202 for this hash (it must serve it from then on) */
    ackedOn: new Map(),
  };
  known.digests.add(digest);
  known.sizes.add(body.length);
  known.tags.set(tag, body.length);
  team.bodies.set(hash, known);
  const res = await ask(c, c.home, kind, 'PUT', `/v8/artifacts/${hash}`, body, {
    'x-artifact-duration': String(body.length),
    'x-artifact-tag': tag,
  });
  if (res.status !== 202) return count(stats.errors, `${kind}:${res.status}`);
  const now = Date.now();
  known.firstAckAt ??= now;
  if (!known.ackedOn.has(c.home.index)) known.ackedOn.set(c.home.index, now);
  if (!team.confirmed.includes(hash)) team.confirmed.push(hash);
}

/** A GET's bytes were uploaded for this hash, whole, with the tag and duration it names. */
function checkBody(stats, team, hash, replica, res) {
  const known = team.bodies.get(hash);
  const digest = sha256(res.body);
  const where = `GET ${team.slug}/${hash} on replica ${replica.index}`;
  if (!res.complete || res.body.length !== Number(res.headers['content-length'])) {
    corrupt(stats, `${where}: ${res.body.length} of ${res.headers['content-length']} bytes`);
    return null;
  }
  if (!known.digests.has(digest)) {
    corrupt(stats, `${where}: ${res.body.length} bytes that were never uploaded`);
    return null;
  }
  const tag = res.headers['x-artifact-tag'];
  const duration = res.headers['x-artifact-duration'];
  if (tag !== tagOf(digest) || duration !== String(res.body.length)) {
    mixed(
      stats,
      `${where}: ${res.body.length} bytes (${tagOf(digest)}) served with tag ${tag}, duration ${duration}`,
    );
  }
  return digest;
}

/** HEAD and query know no bytes: the tag must be one sent with a body of the size answered. */
function checkHeadersOfSize(stats, team, hash, where, size, headers) {
  const tag = headers['x-artifact-tag'];
  const duration = headers['x-artifact-duration'];
  if (team.bodies.get(hash).tags.get(tag) !== size || duration !== String(size)) {
    mixed(stats, `${where}: size ${size} answered with tag ${tag}, duration ${duration}`);
  }
}

/**
 * The newest 100 and 200 random acknowledged artifacts, whole and alike on every replica; every
 * abandoned upload, absent on every replica.
 */
async function finalCheck(team, stats, agent) {
  const c = { team, stats, agent };
  const sample = new Set(team.confirmed.slice(-100));
  for (let i = 0; i < 200 && team.confirmed.length; i += 1) sample.add(pick(team.confirmed));
  for (const hash of sample) {
    const served = await Promise.all(
      replicas.map(async (replica) => {
        const res = await ask(c, replica, 'final', 'GET', `/v8/artifacts/${hash}`);
        if (res.status === 200) return checkBody(stats, team, hash, replica, res);
        if (res.status === 404) missing(stats, team, hash, replica, res.sentAt, 'final GET');
        else count(stats.errors, `final:${res.status}`);
        return null;
      }),
    );
    const digests = new Set(served.filter((digest) => digest !== null));
    if (digests.size > 1) {
      stats.replicaDisagreements += 1;
      stats.problems.push(
        `${team.slug}/${hash}: replicas serve different bodies after the soak (${served.map((d) => d?.slice(0, 12)).join(', ')})`,
      );
    }
  }
  for (const replica of replicas) {
    for (let i = 0; i < team.abandoned.length; i += 500) {
      const hashes = team.abandoned.slice(i, i + 500);
      const res = await ask(c, replica, 'final', 'POST', '/v8/artifacts', { hashes });
      const answer = JSON.parse(res.body.toString());
      for (const hash of hashes) {
        if (answer[hash] !== null) {
          stats.abandonedVisible += 1;
          stats.problems.push(
            `abandoned upload ${team.slug}/${hash} is visible on replica ${replica.index}`,
          );
        }
      }
    }
  }
}

// ---- HTTP ------------------------------------------------------------------------------------
/** A request of client `c` (its agent, its team's token) to `replica`, counted as `kind`. */
function ask(c, replica, kind, method, urlPath, payload, headers) {
  return request(c.agent, replica, method, urlPath, c.team.token, c.stats, kind, payload, headers);
}

function request(agent, replica, method, urlPath, token, stats, kind, payload, extraHeaders = {}) {
  const isJson = payload !== undefined && !Buffer.isBuffer(payload);
  const body = isJson ? Buffer.from(JSON.stringify(payload)) : payload;
  const headers = { Authorization: `Bearer ${token}`, ...extraHeaders };
  if (body !== undefined) {
    headers['Content-Length'] = String(body.length);
    headers['Content-Type'] = isJson ? 'application/json' : 'application/octet-stream';
    stats.bytesUp += body.length;
  }
  count(stats.requests, kind);
  stats.requestsPerReplica[replica.index] += 1;
  const sentAt = Date.now();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: replica.url.hostname, port: replica.url.port, method, path: urlPath, headers, agent },
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
            sentAt,
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
function abandonUpload(replica, team, hash, declared) {
  const { url } = replica;
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(
        `PUT /v8/artifacts/${hash} HTTP/1.1\r\nHost: ${url.host}\r\n` +
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

function mixed(stats, problem) {
  stats.mixedArtifacts += 1;
  stats.problems.push(problem);
}

/**
 * An acknowledged artifact answered absent. On a replica that had not itself acknowledged it,
 * within STALE_MS of its first 202, that is the documented staleness (a stale miss); otherwise
 * the artifact is lost.
 */
function missing(stats, team, hash, replica, sentAt, how) {
  const known = team.bodies.get(hash);
  const ackedHere = known.ackedOn.get(replica.index);
  const acknowledgedHere = ackedHere !== undefined && ackedHere <= sentAt;
  const sinceAck = sentAt - known.firstAckAt;
  if (!acknowledgedHere && sinceAck <= STALE_MS) {
    stats.staleMisses += 1;
    stats.staleMissMaxMs = Math.max(stats.staleMissMaxMs ?? 0, sinceAck);
    return;
  }
  stats.lostArtifacts += 1;
  const acked = [...known.ackedOn.keys()].join('+');
  stats.problems.push(
    `acknowledged artifact ${team.slug}/${hash} is missing: ${how} on replica ${replica.index}, ${sinceAck} ms after its first 202 (acknowledged by replica ${acked})`,
  );
}

function count(map, key) {
  map[key] = (map[key] ?? 0) + 1;
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
/** The x-artifact-tag sent with a body: its sha256 (hex `digest`) in base64, 44 characters. */
const tagOf = (digest) => Buffer.from(digest, 'hex').toString('base64');
const pick = (list) => list[randomInt(list.length)];
const randomInt = (below) => Math.floor(Math.random() * below);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted, p) =>
  sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10
    : null;

function vmHwm(replica) {
  try {
    const status = fs.readFileSync(`/proc/${replica.child.pid}/status`, 'utf8');
    return Number(status.match(/VmHWM:\s+(\d+) kB/)[1]);
  } catch {
    return null;
  }
}

// Last, so that every declaration above is initialised when it runs.
async function main() {
  try {
    if (fleet) await fleet.start(() => stopRequested);
    else await waitHealthy(replicas[0], () => stopRequested);
    const teams = await createTeams();
    const summary = await soak(teams);
    const serverDied = serversDied();
    const failed =
      summary.corruptReads > 0 ||
      summary.crossTeamReads > 0 ||
      summary.lostArtifacts > 0 ||
      summary.mixedArtifacts > 0 ||
      summary.replicaDisagreements > 0 ||
      summary.abandonedVisible > 0 ||
      serverDied;
    summary.serverDied = serverDied;
    // Stopped by SIGINT/SIGTERM before --seconds were up: checked, but shorter than asked.
    summary.interrupted = stopRequested;
    summary.ok = !failed;
    console.log(JSON.stringify(summary, null, 2));
    if (failed) {
      if (fleet) console.error(fleet.logs());
      process.exitCode = 1;
    }
  } catch (error) {
    console.error(`soak failed: ${error.stack ?? error}`);
    if (fleet) console.error(fleet.logs());
    process.exitCode = 1;
  } finally {
    await fleet?.stop();
  }
}

await main();
