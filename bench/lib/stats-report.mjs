// The Markdown report of bench/stats-scale.mjs.
import * as os from 'node:os';
import { EVENTS_PER_POST, median } from './stats-load.mjs';

const n = (x) => Math.round(x).toLocaleString('en');
const seconds = (ms) => (ms / 1000).toFixed(1);
const loop = (s) =>
  `${n(s.count)} / ${n(s.median)} / ${n(s.p99)} / ${n(s.max)}${s.refused ? ` (${n(s.refused)} refused)` : ''}`;

/** The run as Markdown tables, with the command and the machine. */
export function report(run) {
  const { config, filled, rollupMs, periods, ingestion, ui, baseline, pruning } = run;
  const cpus = os.cpus();
  const sizes = Object.entries(filled.sizes)
    .map(([table, size]) => `${table} ${size}`)
    .join(', ');
  const { how, deleted, longestMs, ms } = pruning.result;
  const lines = [
    `command: node bench/stats-scale.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    `build: ${config.root}`,
    `machine: ${cpus.length} cores (${cpus[0].model}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}; load average before the run ${os.loadavg()[0].toFixed(1)}`,
    `data: ${n(config.events)} usage events over ${config.days} days (${n(config.eventHashes)} hashes), ${n(config.artifacts)} artifacts, filled in ${seconds(filled.totalMs)} s; sizes with indexes: ${sizes}`,
    rollupMs === null
      ? 'rollups: none in this build'
      : `rollups: the job caught up with all ${n(config.events)} events ${seconds(rollupMs)} s after the server started on them`,
    '',
    `| stats period | events in period | median ms (${config.runs} runs) | max ms |`,
    '| --- | --- | --- | --- |',
    ...periods.map((p) =>
      p.failed
        ? `| ${p.days} days | | HTTP ${p.failed.status} after ${n(p.failed.ms)} ms | |`
        : `| ${p.days} days | ${n(p.lookups)} | ${n(p.median)} | ${n(p.max)} |`,
    ),
    '',
    `ingestion: ${ingestion.clients} clients, ${EVENTS_PER_POST} events a request, ${seconds(ingestion.seconds * 1000)} s: **${n(ingestion.eventsPerSecond)} events/s** (${n(ingestion.count)} requests${refusals(ingestion.refused)}; latency median ${n(ingestion.median)} ms, p99 ${n(ingestion.p99)} ms, max ${n(ingestion.max)} ms)`,
    uiLine(ui),
    '',
    `| ${n(deleted)} raw events pruned by ${how} | without it (${seconds(run.baselineMs)} s) | during it (${seconds(ms)} s) |`,
    '| --- | --- | --- |',
    `| longest DELETE statement | | ${n(longestMs)} ms |`,
    `| POST events: requests / median / p99 / max ms | ${loop(baseline.posts)} | ${loop(pruning.posts)} |`,
    `| GET stats (30 days): requests / median / p99 / max ms | ${loop(baseline.stats)} | ${loop(pruning.stats)} |`,
    '',
    `run time: ${seconds(run.totalMs)} s${config.keep ? `; data kept in ${run.server.dataDir}` : ''}`,
  ];
  return lines.join('\n');
}

const refusals = (refused) =>
  Object.entries(refused)
    .map(([status, count]) => `, ${n(count)} answered ${status}`)
    .join('');

function uiLine(ui) {
  if (ui === null)
    return 'admin UI: not measured (no Chromium: run the admin UI e2e test once, or set CHROMIUM_PATH)';
  if (ui.error) return `admin UI: failed (${ui.error})`;
  const first = ui.map((t) => t.firstChart);
  const ready = ui.map((t) => t.ready);
  return `admin UI (30 days, ${ui.length} sign-ins): first chart drawn after median ${n(median(first))} ms (max ${n(Math.max(...first))}), whole dashboard ${n(median(ready))} ms (max ${n(Math.max(...ready))})`;
}
