#!/usr/bin/env node
// A/B of two teamcache checkouts (each built with `npm run build`) on small GETs: a miss and a
// 10 KiB hit, loaded in turn (A B, then B A, ...) so that a slow spell of the machine weighs
// on both alike. For a change on the hot path: quote both columns of one run.
//
//   node bench/compare-builds.mjs --before ../teamcache-old --after . [--rounds 3] [--seconds 6]
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { upload } from './lib/transfer.mjs';

const { values: opts } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '6' },
  },
});
if (!opts.before) throw new Error('--before <checkout> is required (a built teamcache checkout)');
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const QUERY = '?slug=bench';

const servers = [];
for (const [label, dir] of [
  ['before', opts.before],
  ['after', opts.after],
]) {
  const lib = await import(path.resolve(dir, 'bench/lib/servers.mjs'));
  servers.push({ ...(await lib.startTeamcache({ label })), label });
}
const load = (server, hash, seconds) =>
  new Promise((resolve, reject) =>
    autocannon(
      {
        url: `${server.url}/v8/artifacts/${hash}${QUERY}`,
        connections: 64,
        duration: seconds,
        headers: { authorization: `Bearer ${server.token}` },
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
try {
  const hit = randomBytes(8).toString('hex');
  const miss = 'ffffffffffffffff';
  for (const server of servers) {
    await upload(server.url, server.token, hit, 10 * 1024, randomBytes(64 * 1024), QUERY);
    await load(server, miss, 2);
    await load(server, hit, 2);
  }
  const results = Object.fromEntries(servers.map((s) => [s.label, { miss: [], hit: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const server of round % 2 ? [...servers].reverse() : servers) {
      for (const [what, hash] of [
        ['miss', miss],
        ['hit', hit],
      ]) {
        const r = await load(server, hash, SECONDS);
        results[server.label][what].push({
          rps: Math.round(r.requests.average),
          p99: r.latency.p99,
        });
      }
    }
  }
  console.log(JSON.stringify(results, null, 2));
} finally {
  for (const server of servers) await server.stop();
}
