#!/usr/bin/env node
// Team statistics at scale: one team with N usage events over the last D days and M artifacts,
// written directly with SQL (generate_series, in chunks) into an embedded PostgreSQL migrated
// by a built checkout's CLI; then that build's server starts on it (fs storage), as an upgraded
// deployment would on its history, and the script measures:
//  1. (a build with rollups) how long its rollup job takes to catch up with every event;
//  2. GET /admin/teams/<team>/stats for periods of 7, 30, 90 and 365 days ending now (median
//     and max of --runs requests each, after one unmeasured request);
//  3. events ingested per second with --clients clients posting at once (10 events a request);
//  4. the admin UI (30 days): from sign-in to its first chart, in headless Chromium, if found;
//  5. the pruning of the oldest --prune-days days of raw events (the retention sweep's usage
//     step) while one loop posts usage events and another requests 30-day stats: the loops'
//     latencies next to the same loops without it. A build without event retention deletes
//     them by SQL instead, as the bench before rollups did.
//   node bench/stats-scale.mjs [--events 3000000] [--artifacts 200000] [--days 365] [--runs 5]
//        [--clients 64] [--ingest-seconds 20] [--prune-days 30] [--root <built checkout>] [--keep]
// --root: measure another built checkout (e.g. one of the commit before rollups) on the same
// synthetic data; --keep: keep the temp DATA_DIR with its PostgreSQL cluster.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { adminUiTimings } from './lib/admin-ui-timing.mjs';
import { freePort, ROOT, waitHealthy } from './lib/servers.mjs';
import { ingestionRate, loopsDuring, median, statsRequest } from './lib/stats-load.mjs';
import { deleteOldEvents, EVENT_HASHES, fillArtifacts, fillEvents } from './lib/usage-fill.mjs';
import { report } from './lib/stats-report.mjs';

const { values: opts } = parseArgs({
  options: {
    events: { type: 'string', default: '3000000' },
    artifacts: { type: 'string', default: '200000' },
    days: { type: 'string', default: '365' },
    runs: { type: 'string', default: '5' },
    clients: { type: 'string', default: '64' },
    'ingest-seconds': { type: 'string', default: '20' },
    'prune-days': { type: 'string', default: '30' },
    root: { type: 'string', default: ROOT },
    keep: { type: 'boolean', default: false },
  },
});
const CONFIG = {
  events: Number(opts.events),
  artifacts: Number(opts.artifacts),
  days: Number(opts.days),
  runs: Number(opts.runs),
  clients: Number(opts.clients),
  ingestMs: Number(opts['ingest-seconds']) * 1000,
  pruneDays: Number(opts['prune-days']),
  root: path.resolve(opts.root),
  keep: opts.keep,
  eventHashes: EVENT_HASHES,
};
const PERIODS = [7, 30, 90, 365];
const LOOP_STATS_DAYS = 30;
/** The SQL deletion of a build without event retention (the 'before' bench). */
const SQL_DELETE_BATCH = 50_000;
/** How long the loops run without a sweep, for comparison. */
const BASELINE_MS = 15_000;
const CLI = path.join(CONFIG.root, 'bin/teamcache.js');
const dist = (file) => pathToFileURL(path.join(CONFIG.root, 'dist/src', file)).href;

const seconds = (ms) => (ms / 1000).toFixed(1);
const log = (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/**
 * A PostgreSQL cluster started here with --root's schema, a team and its token (by the CLI),
 * and the environment of --root's server: an admin token, no admin rate limit, no background
 * sweep (this script prunes), an artifact retention longer than the synthetic history.
 */
async function prepareDatabase() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-stats-'));
  const { EmbeddedPostgres } = await import(dist('database/embedded-postgres.js'));
  const cluster = new EmbeddedPostgres({ dataDir });
  const databaseUrl = cluster.url(await cluster.start(true));
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: randomBytes(32).toString('hex'),
    RATE_LIMIT_ADMIN: '0',
    RETENTION_DAYS: '36500',
    RETENTION_SWEEP_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
  };
  delete env.S3_ENDPOINT;
  const cli = (...args) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  cli('migrate');
  cli('teams', 'create', 'bench');
  const token = cli('tokens', 'issue', '--team', 'bench');
  return { cluster, databaseUrl, dataDir, env, token, adminToken: env.ADMIN_TOKEN };
}

/** --root's server on the prepared database, as an upgraded deployment starts on its history. */
async function startServer(database) {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...database.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/healthz`, child);
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  };
  return { ...database, url, stop };
}

async function fill(db, teamId) {
  const started = performance.now();
  const of = (total) => (n) => log(`${n.toLocaleString('en')} of ${total.toLocaleString('en')}`);
  log('events ...');
  await fillEvents(db, teamId, CONFIG.events, CONFIG.days, of(CONFIG.events));
  const eventsMs = performance.now() - started;
  log('artifacts ...');
  await fillArtifacts(db, teamId, CONFIG.artifacts, CONFIG.days, of(CONFIG.artifacts));
  return { eventsMs, totalMs: performance.now() - started };
}

/** Waits for the server's rollup job to cover every event and fold every artifact delta. */
async function rollupCatchUp(db) {
  const started = performance.now();
  const [{ max }] = (await db.query('SELECT max(id) AS max FROM usage_events')).rows;
  for (let last = 0; ;) {
    const { rows } = await db.query(
      `SELECT rolled_up_to, top_artifacts_trimmed_through IS NOT NULL AS trimmed,
              (SELECT count(*) FROM artifact_day_deltas) AS deltas FROM usage_rollup_state`,
    );
    const state = rows[0];
    if (Number(state.rolled_up_to) >= Number(max) && state.trimmed && Number(state.deltas) === 0) {
      return performance.now() - started;
    }
    if (performance.now() - last > 30_000) {
      log(
        `rolled up to ${Number(state.rolled_up_to).toLocaleString('en')} of ${Number(max).toLocaleString('en')}`,
      );
      last = performance.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const sizes = async (db, tables) =>
  Object.fromEntries(
    await Promise.all(
      tables.map(async (table) => {
        const { rows } = await db.query(
          `SELECT pg_size_pretty(pg_total_relation_size($1::regclass)) AS size`,
          [table],
        );
        return [table, rows[0].size];
      }),
    ),
  );

/**
 * The usage step of --root's retention sweep (bench/lib/prune-usage.mjs, in a process of its
 * own) with a raw-event retention that leaves --prune-days days to prune. Not the whole sweep:
 * its blob collection would drop the synthetic artifact rows, which have no bodies.
 */
async function pruneByRetention(server) {
  const keepDays = CONFIG.days - CONFIG.pruneDays;
  const env = {
    ...server.env,
    USAGE_EVENTS_RETENTION_DAYS: String(keepDays),
    USAGE_ROLLUP_RETENTION_DAYS: String(Math.max(730, keepDays)),
    USAGE_ROLLUP_INTERVAL_MS: '0',
  };
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bench/lib/prune-usage.mjs'), CONFIG.root],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`prune-usage.mjs exited with ${code}`);
  const result = JSON.parse(output);
  return {
    how: `the retention sweep's UsageRetention.prune (USAGE_EVENTS_RETENTION_DAYS=${keepDays})`,
    deleted: result.events,
    longestMs: result.longestBatchMs,
    ms: performance.now() - started,
  };
}

async function sqlDeletion(db, teamId) {
  const started = performance.now();
  const keepDays = CONFIG.days - CONFIG.pruneDays;
  const result = await deleteOldEvents(db, teamId, keepDays, SQL_DELETE_BATCH);
  return {
    how: `DELETE by SQL, ${SQL_DELETE_BATCH.toLocaleString('en')} a batch (no event retention in this build)`,
    ...result,
    ms: performance.now() - started,
  };
}

/**
 * Waits (up to 5 min) until no other database session runs a statement: a request the server
 * gave up on (its query timeout) leaves its statements running on the database, and the next
 * measurement would share the cores with them.
 */
async function quiesce(db) {
  const deadline = performance.now() + 300_000;
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    if (rows[0].n === 0 || performance.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function main() {
  const began = performance.now();
  const database = await prepareDatabase();
  const db = new pg.Client({ connectionString: database.databaseUrl });
  let server;
  try {
    await db.connect();
    const teamId = (await db.query("SELECT id FROM teams WHERE slug = 'bench'")).rows[0].id;
    const filled = await fill(db, teamId);
    log(`filled in ${seconds(filled.totalMs)} s (events ${seconds(filled.eventsMs)} s)`);
    server = await startServer(database);
    const rollups = (await db.query("SELECT to_regclass('usage_rollup_state') AS t")).rows[0].t;
    let rollupMs = null;
    if (rollups) {
      log('waiting for the rollup job to catch up ...');
      rollupMs = await rollupCatchUp(db);
      log(`rolled up in ${seconds(rollupMs)} s`);
    }
    // A running deployment's tables were vacuumed long ago; a fresh fill's were not, and
    // autovacuum would otherwise scan gigabytes during the measurements.
    log('VACUUM (ANALYZE) ...');
    await db.query('VACUUM (ANALYZE)');
    const tables = ['usage_events', 'artifacts'];
    if (rollups) {
      tables.push('usage_daily_counts', 'usage_session_days', 'usage_daily_artifacts');
      tables.push('artifact_day_totals');
    }
    filled.sizes = await sizes(db, tables);

    const periods = [];
    for (const days of PERIODS) {
      log(`stats, ${days} days ...`);
      try {
        await statsRequest(server, teamId, days);
      } catch (error) {
        // A build that cannot answer this period (e.g. its 30 s query timeout): say so, and
        // do not wait for it four more times.
        if (!error.status) throw error;
        periods.push({ days, failed: { status: error.status, ms: error.ms } });
        continue;
      }
      const times = [];
      let body;
      for (let run = 0; run < CONFIG.runs; run++) {
        ({ ms: times[run], body } = await statsRequest(server, teamId, days));
      }
      const lookups = body.remote.hits + body.remote.misses + body.local.hits + body.local.misses;
      periods.push({ days, median: median(times), max: Math.max(...times), lookups });
    }
    await quiesce(db);
    log(`ingestion, ${CONFIG.clients} clients for ${seconds(CONFIG.ingestMs)} s ...`);
    const ingestion = await ingestionRate(server, CONFIG.clients, CONFIG.ingestMs);
    log('admin UI ...');
    const ui = await adminUiTimings(server, CONFIG.runs).catch((error) => ({
      error: error.message,
    }));

    log(`loops without a prune, ${BASELINE_MS / 1000} s ...`);
    const idle = new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
    const baseline = await loopsDuring(server, teamId, LOOP_STATS_DAYS, idle);
    log(`pruning the oldest ${CONFIG.pruneDays} days of raw events ...`);
    const prune = rollups ? pruneByRetention(server) : sqlDeletion(db, teamId);
    const pruning = await loopsDuring(server, teamId, LOOP_STATS_DAYS, prune);
    console.log(
      report({
        ...{ config: CONFIG, filled, rollupMs, periods, ingestion, ui, baseline, pruning },
        ...{ baselineMs: BASELINE_MS, totalMs: performance.now() - began, server },
      }),
    );
  } finally {
    await db.end().catch(() => undefined);
    await server?.stop();
    await database.cluster.stop();
    if (!CONFIG.keep) fs.rmSync(database.dataDir, { recursive: true, force: true });
  }
}

await main();
