// Requests of bench/stats-scale.mjs against a running server: stats for a period, batches of
// usage events, loops of both while something else runs, and ingestion at many clients at once.
import { randomBytes, randomUUID } from 'node:crypto';

const DAY_MS = 86_400_000;
export const EVENTS_PER_POST = 10;

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];

/**
 * One GET /admin/teams/<team>/stats for the last `days` days; resolves to { ms, body }, rejects
 * with an Error carrying `status` and `ms` when the answer is not 200.
 */
export async function statsRequest(server, teamId, days) {
  const to = new Date();
  const from = new Date(to.getTime() - days * DAY_MS);
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  const started = performance.now();
  const res = await fetch(`${server.url}/admin/teams/${teamId}/stats?${query}`, {
    headers: { Authorization: `Bearer ${server.adminToken}` },
  });
  const body = await res.json();
  const ms = performance.now() - started;
  if (res.status !== 200) {
    throw Object.assign(new Error(`stats ${days} d: ${res.status} ${JSON.stringify(body)}`), {
      status: res.status,
      ms,
    });
  }
  return { ms, body };
}

/** One POST /v8/artifacts/events of EVENTS_PER_POST events; resolves to its latency in ms. */
export async function postEvents(server, sessionId) {
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
  const ms = performance.now() - started;
  if (res.status !== 200)
    throw Object.assign(new Error(`events: ${res.status}`), { status: res.status, ms });
  return ms;
}

const summary = (xs) => ({
  count: xs.length,
  median: median(xs),
  p99: percentile(xs, 0.99),
  max: Math.max(...xs),
});

/**
 * Two sequential loops (posting events; `statsDays` stats) until `until` settles: each loop's
 * latencies, a refused request (not 200) counted in `refused` and its latency kept.
 */
export async function loopsDuring(server, teamId, statsDays, until) {
  let done = false;
  const finished = until.finally(() => (done = true));
  const sessionId = randomUUID();
  const loop = async (request) => {
    const latencies = [];
    let refused = 0;
    while (!done) {
      try {
        latencies.push(await request());
      } catch (error) {
        if (!error.status) throw error;
        latencies.push(error.ms);
        refused++;
      }
    }
    return { ...summary(latencies), refused };
  };
  const postLoop = loop(() => postEvents(server, sessionId));
  const statsLoop = loop(async () => (await statsRequest(server, teamId, statsDays)).ms);
  const result = await finished;
  const [posts, stats] = await Promise.all([postLoop, statsLoop]);
  return { result, posts, stats };
}

/**
 * `clients` loops posting events as fast as the server answers for `ms`: the events ingested
 * per second (by requests answered 200), each request's latency, and the requests refused
 * (`refused`: count per HTTP status).
 */
export async function ingestionRate(server, clients, ms) {
  const latencies = [];
  const refused = {};
  const deadline = performance.now() + ms;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const sessionId = randomUUID();
      while (performance.now() < deadline) {
        try {
          latencies.push(await postEvents(server, sessionId));
        } catch (error) {
          if (!error.status) throw error;
          refused[error.status] = (refused[error.status] ?? 0) + 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    clients,
    seconds,
    eventsPerSecond: (latencies.length * EVENTS_PER_POST) / seconds,
    refused,
    ...summary(latencies),
  };
}
