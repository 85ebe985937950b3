#!/usr/bin/env node
// Team statistics at scale, the "before" of rollups and event retention: one team with N usage
// events over the last D days and M artifacts, written directly with SQL (generate_series) into
// the embedded PostgreSQL of the built server (fs storage); then
//  1. GET /admin/teams/<team>/stats for periods of 7, 30, 90 and 365 days (median and max of
//     --runs requests each), and
//  2. a deletion of the events older than 30 days in batches of 50k rows while one loop posts
//     usage events and another requests 30-day stats: total deletion time and the loops'
//     longest stall, next to the same loops without the deletion.
//   node bench/stats-scale.mjs [--events 3000000] [--artifacts 200000] [--days 365] [--runs 5]
//                              [--keep]   (keep the temp DATA_DIR, with its PostgreSQL cluster)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { freePort, ROOT, waitHealthy } from './lib/servers.mjs';
import { deleteOldEvents, EVENT_HASHES, fillArtifacts, fillEvents } from './lib/usage-fill.mjs';

const { values: opts } = parseArgs({
  options: {
    events: { type: 'string', default: '3000000' },
    artifacts: { type: 'string', default: '200000' },
    days: { type: 'string', default: '365' },
    runs: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(opts.events);
const ARTIFACTS = Number(opts.artifacts);
const DAYS = Number(opts.days);
const RUNS = Number(opts.runs);
const PERIODS = [7, 30, 90, 365];
const KEEP_DAYS = 30;
const DELETE_BATCH = 50_000;
/** How long the loops run without a deletion, for comparison. */
const BASELINE_MS = 15_000;
const EVENTS_PER_POST = 10;
const DAY_MS = 86_400_000;
const CLI = path.join(ROOT, 'bin/teamcache.js');

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (ms) => (ms / 1000).toFixed(1);
const log = (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/**
 * The built server on a PostgreSQL cluster started here (as bench/lib/replicas.mjs does for
 * several replicas), so this script can fill the same database; an admin token for the stats,
 * no admin rate limit, and a retention longer than the synthetic history, so that no sweep
 * removes artifacts while they are measured.
 */
async function startServer() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-stats-'));
  const { EmbeddedPostgres } = await import(
    pathToFileURL(path.join(ROOT, 'dist/src/database/embedded-postgres.js')).href
  );
  const cluster = new EmbeddedPostgres({ dataDir });
  const databaseUrl = cluster.url(await cluster.start(true));
  const adminToken = randomBytes(32).toString('hex');
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: adminToken,
    RATE_LIMIT_ADMIN: '0',
    RETENTION_DAYS: '36500',
    LOG_LEVEL: 'warn',
  };
  delete env.S3_ENDPOINT;
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/healthz`, child);
  const cli = (...args) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  cli('teams', 'create', 'bench');
  const token = cli('tokens', 'issue', '--team', 'bench');
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await cluster.stop();
    if (!opts.keep) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { url, token, adminToken, databaseUrl, dataDir, stop };
}

/** One stats request for the last `days` days; resolves to its latency in ms. */
async function statsRequest(server, teamId, days) {
  const to = new Date();
  const from = new Date(to.getTime() - days * DAY_MS);
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  const started = performance.now();
  const res = await fetch(`${server.url}/admin/teams/${teamId}/stats?${query}`, {
    headers: { Authorization: `Bearer ${server.adminToken}` },
  });
  const body = await res.json();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`stats ${days} d: ${res.status} ${JSON.stringify(body)}`);
  return { ms, body };
}

/** One POST /v8/artifacts/events of EVENTS_PER_POST events; resolves to its latency in ms. */
async function postEvents(server, sessionId) {
  const events = Array.from({ length: EVENTS_PER_POST }, (_, i) => ({
    sessionId,
    source: i % 4 === 0 ? 'LOCAL' : 'REMOTE',
    event: i % 3 === 0 ? 'MISS' : 'HIT',
    hash: randomBytes(8).toString('hex'),
    duration: i % 3 === 0 ? 0 : 1500,
  }));
  const started = performance.now();
  const res = await fetch(`${server.url}/v8/artifacts/events?slug=bench`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${server.token}`,
      'Content-Type': 'application/json',
      'x-artifact-client-ci': 'GITHUB_ACTIONS',
    },
    body: JSON.stringify(events),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`events: ${res.status}`);
  return performance.now() - started;
}

/** Two sequential loops (posting events; 30-day stats) until `until` settles. */
async function loopsDuring(server, teamId, until) {
  let done = false;
  const finished = until.finally(() => (done = true));
  const posts = [];
  const stats = [];
  const sessionId = randomUUID();
  const postLoop = (async () => {
    while (!done) posts.push(await postEvents(server, sessionId));
  })();
  const statsLoop = (async () => {
    while (!done) stats.push((await statsRequest(server, teamId, KEEP_DAYS)).ms);
  })();
  const result = await finished;
  await Promise.all([postLoop, statsLoop]);
  const summary = (xs) => ({ count: xs.length, median: median(xs), max: Math.max(...xs) });
  return { result, posts: summary(posts), stats: summary(stats) };
}

async function fill(db, teamId) {
  const started = performance.now();
  await fillEvents(db, teamId, EVENTS, DAYS, (n) =>
    log(`events: ${n.toLocaleString('en')} of ${EVENTS.toLocaleString('en')}`),
  );
  const eventsMs = performance.now() - started;
  log('artifacts ...');
  await fillArtifacts(db, teamId, ARTIFACTS, DAYS);
  log('ANALYZE ...');
  await db.query('ANALYZE usage_events');
  await db.query('ANALYZE artifacts');
  const { rows } = await db.query(
    `SELECT pg_size_pretty(pg_total_relation_size('usage_events')) AS events,
            pg_size_pretty(pg_total_relation_size('artifacts')) AS artifacts`,
  );
  return { eventsMs, totalMs: performance.now() - started, sizes: rows[0] };
}

async function main() {
  const began = performance.now();
  const server = await startServer();
  const db = new pg.Client({ connectionString: server.databaseUrl });
  try {
    await db.connect();
    const teamId = (await db.query("SELECT id FROM teams WHERE slug = 'bench'")).rows[0].id;
    const filled = await fill(db, teamId);
    log(`filled in ${seconds(filled.totalMs)} s (events ${seconds(filled.eventsMs)} s)`);

    const periods = [];
    for (const days of PERIODS) {
      log(`stats, ${days} days ...`);
      await statsRequest(server, teamId, days); // warm-up: plans and pages cached, not measured
      const times = [];
      let body;
      for (let run = 0; run < RUNS; run++)
        ({ ms: times[run], body } = await statsRequest(server, teamId, days));
      const lookups = body.remote.hits + body.remote.misses + body.local.hits + body.local.misses;
      periods.push({ days, median: median(times), max: Math.max(...times), lookups });
    }

    log(`loops without deletion, ${BASELINE_MS / 1000} s ...`);
    const baseline = await loopsDuring(
      server,
      teamId,
      new Promise((r) => setTimeout(r, BASELINE_MS)),
    );
    log(`deleting events older than ${KEEP_DAYS} days in batches of ${DELETE_BATCH} ...`);
    const deleteStarted = performance.now();
    const deletion = await loopsDuring(
      server,
      teamId,
      deleteOldEvents(db, teamId, KEEP_DAYS, DELETE_BATCH).then((r) => ({
        ...r,
        ms: performance.now() - deleteStarted,
      })),
    );
    report({ filled, periods, baseline, deletion, totalMs: performance.now() - began, server });
  } finally {
    await db.end().catch(() => undefined);
    await server.stop();
  }
}

function report({ filled, periods, baseline, deletion, totalMs, server }) {
  const cpus = os.cpus();
  const f = (ms) => ms.toFixed(0);
  const n = (x) => x.toLocaleString('en');
  const { deleted, batches, longestMs, ms } = deletion.result;
  const lines = [
    `command: node bench/stats-scale.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    `machine: ${cpus.length} cores (${cpus[0].model}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`,
    `data: ${n(EVENTS)} usage events over ${DAYS} days (${n(EVENT_HASHES)} hashes), ${n(ARTIFACTS)} artifacts;` +
      ` usage_events ${filled.sizes.events}, artifacts ${filled.sizes.artifacts} with indexes;` +
      ` filled in ${seconds(filled.totalMs)} s`,
    '',
    `| stats period | events in period | median ms (${RUNS} runs) | max ms |`,
    '| --- | --- | --- | --- |',
    ...periods.map((p) => `| ${p.days} days | ${n(p.lookups)} | ${f(p.median)} | ${f(p.max)} |`),
    '',
    `| events older than ${KEEP_DAYS} days deleted, ${n(DELETE_BATCH)} a batch | without deletion (${BASELINE_MS / 1000} s) | during deletion |`,
    '| --- | --- | --- |',
    `| deletion: rows / batches / total s / longest batch ms | | ${n(deleted)} / ${batches} / ${seconds(ms)} / ${f(longestMs)} |`,
    `| POST events (${EVENTS_PER_POST} a request): requests / median ms / max ms | ${row(baseline.posts)} | ${row(deletion.posts)} |`,
    `| GET stats (${KEEP_DAYS} days): requests / median ms / max ms | ${row(baseline.stats)} | ${row(deletion.stats)} |`,
    '',
    `run time: ${seconds(totalMs)} s${opts.keep ? `; data kept in ${server.dataDir}` : ''}`,
  ];
  console.log(lines.join('\n'));
}

const row = (s) => `${s.count} / ${s.median.toFixed(0)} / ${s.max.toFixed(0)}`;

await main();
