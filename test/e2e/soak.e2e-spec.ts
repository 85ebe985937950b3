import { spawn } from 'node:child_process';
import * as path from 'node:path';

const SOAK = path.resolve(__dirname, '../../bench/soak.mjs');

interface SoakSummary {
  replicas: number;
  requests: { total: number };
  requestsPerReplica: number[];
  errors: Record<string, number>;
  corruptReads: number;
  crossTeamReads: number;
  lostArtifacts: number;
  mixedArtifacts: number;
  replicaDisagreements: number;
  abandonedVisible: number;
  staleMisses: number;
  crossReplicaReads: number;
  ok: boolean;
}

const CLEAN = {
  corruptReads: 0,
  crossTeamReads: 0,
  lostArtifacts: 0,
  mixedArtifacts: 0,
  replicaDisagreements: 0,
  abandonedVisible: 0,
  ok: true,
};

/** The short soak (`npm run soak` runs it for 10 minutes): the built server, 8 clients, 60 s. */
describe('bench/soak.mjs --seconds 60 --clients 8', () => {
  jest.setTimeout(240_000);

  it('finds no corrupt read, no cross-team read, no lost and no mixed artifact', async () => {
    const summary = await soak(['--seconds', '60', '--clients', '8']);
    expect(summary).toMatchObject({ ...CLEAN, replicas: 1, staleMisses: 0 });
    expect(summary.requests.total).toBeGreaterThan(1_000);
    expectFewErrors(summary);
  });
});

/**
 * Two `teamcache serve` processes on one PostgreSQL and one blob store: every client uploads
 * through one replica and reads through both, so uploads are read back from the other process.
 */
describe('bench/soak.mjs --seconds 30 --clients 8 --replicas 2', () => {
  jest.setTimeout(240_000);

  it('serves every acknowledged artifact, with its own headers, from every replica', async () => {
    const summary = await soak(['--seconds', '30', '--clients', '8', '--replicas', '2']);
    expect(summary).toMatchObject({ ...CLEAN, replicas: 2 });
    expect(summary.requests.total).toBeGreaterThan(500);
    // Both replicas served, and reads crossed from a client's replica to the other one.
    expect(Math.min(...summary.requestsPerReplica)).toBeGreaterThan(summary.requests.total / 4);
    expect(summary.crossReplicaReads).toBeGreaterThan(100);
    expectFewErrors(summary);
  });
});

async function soak(args: string[]): Promise<SoakSummary> {
  const { code, stdout, stderr } = await run(args);
  if (code !== 0) throw new Error(`soak exited ${code}:\n${stdout}\n${stderr}`);
  return JSON.parse(stdout) as SoakSummary;
}

/** Transport hiccups are tolerated, not a pattern: at most 0.1 % of the requests. */
function expectFewErrors(summary: SoakSummary): void {
  const errors = Object.values(summary.errors).reduce((a, b) => a + b, 0);
  expect(errors).toBeLessThanOrEqual(summary.requests.total / 1_000);
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    for (const key of ['DATABASE_URL', 'DATA_DIR', 'S3_ENDPOINT', 'TEAMCACHE_URL', 'JWT_SECRET']) {
      delete env[key];
    }
    const child = spawn(process.execPath, [SOAK, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
