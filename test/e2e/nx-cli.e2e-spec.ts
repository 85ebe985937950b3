import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import request from 'supertest';
import type { Team } from '../../src/teams/team.entity';
import { sha256 } from '../support/artifacts';
import { metricValue, scrapeMetrics } from '../support/metrics';
import {
  cacheSummary,
  copyNxWorkspace,
  createNxWorkspace,
  NX_VERSION,
  nxRemoteCache,
  nxRun,
  readNxOutputs,
  remoteHits,
} from '../support/nx-workspace';
import { startScratchPostgres, type ScratchPostgres } from '../support/postgres-server';
import { bearer, createTeam, issueToken, pauseTeam, resumeTeam } from '../support/teams';
import { createTestAppOn, type StorageDriver, type TestApp } from '../support/test-app';
import type { TestS3Server } from '../support/s3-server';

const PROJECTS = ['alpha', 'beta'];
const NX_HASH = /^nx-[0-9]{1,20}$/;

/**
 * The real `nx` binary (the devDependency) against the real app, database and storage, through
 * NX_SELF_HOSTED_REMOTE_CACHE_SERVER / _ACCESS_TOKEN. Each Nx run costs seconds of start-up, so
 * one workspace's first run feeds every later case (a fresh copy has an empty local cache).
 */
describe.each<StorageDriver>(['fs', 's3'])(`nx ${NX_VERSION} against teamcache (%s)`, (driver) => {
  jest.setTimeout(120_000);
  let t: TestApp & { s3?: TestS3Server };
  // The fs driver has no outage of its own to cause: its outage is PostgreSQL's, stopped.
  let pg: ScratchPostgres | undefined;
  const outOfService = driver === 's3' ? 'S3' : 'PostgreSQL';
  let server: string;
  let acme: Team;
  let acmeToken: string;
  let origin: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    pg = driver === 'fs' ? await startScratchPostgres() : undefined;
    t = await createTestAppOn(driver, { NX_TIMEOUT_MS: '3000' }, { adminUrl: pg?.adminUrl });
    await t.app.listen(0, '127.0.0.1');
    server = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    acme = await createTeam(t, 'acme');
    acmeToken = (await issueToken(t, acme, { name: 'ci' })).token;
  });
  afterAll(async () => {
    await t?.close();
    await pg?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const track = (dir: string) => (dirs.push(dir), dir);
  const freshCopy = () => track(copyNxWorkspace(origin));
  // Digests, not buffers: toEqual walks a Buffer byte by byte.
  const outputDigests = (root: string) => readNxOutputs(root, PROJECTS).map(sha256);
  const storedHashes = async (team: Team): Promise<string[]> =>
    (
      (await t.dataSource.query('SELECT hash FROM artifacts WHERE team_id = $1 ORDER BY hash', [
        team.id,
      ])) as { hash: string }[]
    ).map((row) => row.hash);
  const refusals = async (method: string, reason: string) =>
    metricValue(await scrapeMetrics(t.server), 'teamcache_nx_refusals_total', { method, reason });

  it('uploads every task on a first run; a fresh copy takes all of them from teamcache', async () => {
    origin = track(createNxWorkspace(PROJECTS));
    const first = await nxRun(origin, nxRemoteCache(server, acmeToken));
    expect(first.status).toBe(0);
    expect(cacheSummary(first)).toBe('0/2');
    const stored = await storedHashes(acme);
    expect(stored).toHaveLength(2);
    stored.forEach((hash) => expect(hash).toMatch(NX_HASH));

    // What Nx uploaded (a gzipped tar of outputs, terminal output and exit code) comes back.
    const raw = await request(t.server)
      .get(`/v1/cache/${stored[0].slice('nx-'.length)}`)
      .set(bearer(acmeToken))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect((raw.body as Buffer).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

    // Nx appends /v1/cache/{hash} to the URL as given: a trailing slash makes it //v1/...
    const copy = freshCopy();
    const second = await nxRun(copy, nxRemoteCache(`${server}/`, acmeToken));
    expect(second.status).toBe(0);
    expect(remoteHits(second)).toEqual(PROJECTS);
    expect(cacheSummary(second)).toBe('2/2');
    expect(second.output).toContain('Nx read the output from the cache');
    expect(outputDigests(copy)).toEqual(outputDigests(origin));
    expect(await storedHashes(acme)).toEqual(stored);
  });

  it("gives another team's token misses: its tasks run and its entries are its own", async () => {
    const globex = await createTeam(t, 'globex');
    const { token } = await issueToken(t, globex);
    const copy = freshCopy();
    const run = await nxRun(copy, nxRemoteCache(server, token));
    expect(run.status).toBe(0);
    expect(remoteHits(run)).toEqual([]);
    expect(cacheSummary(run)).toBe('0/2');
    expect(outputDigests(copy)).not.toEqual(outputDigests(origin));
    // The same task hashes, stored again under the other team.
    expect(await storedHashes(globex)).toEqual(await storedHashes(acme));
  });

  it('lets a read-only token hit but not write, and the run succeeds', async () => {
    const { token } = await issueToken(t, acme, { readOnly: true });
    const copy = freshCopy();
    // beta's sources change: its task misses and Nx tries to upload it.
    fs.appendFileSync(path.join(copy, 'packages/beta/build.js'), '// changed\n');
    const before = await storedHashes(acme);
    const refusedPuts = await refusals('PUT', 'forbidden');

    const run = await nxRun(copy, nxRemoteCache(server, token));
    expect(run.status).toBe(0);
    expect(remoteHits(run)).toEqual(['alpha']);
    expect(cacheSummary(run)).toBe('1/2');
    expect(await storedHashes(acme)).toEqual(before);
    expect(await refusals('PUT', 'forbidden')).toBe(refusedPuts + 1);
  });

  it('keeps the run of a paused team green: every task misses, nothing is written', async () => {
    await pauseTeam(t, acme);
    try {
      // A token verified before the pause is trusted for AUTH_RECHECK_MS; this one never was.
      const { token } = await issueToken(t, acme);
      const before = await storedHashes(acme);
      const refusedGets = await refusals('GET', 'forbidden');
      const copy = freshCopy();
      const run = await nxRun(copy, nxRemoteCache(server, token));
      expect(run.status).toBe(0);
      expect(remoteHits(run)).toEqual([]);
      expect(cacheSummary(run)).toBe('0/2');
      expect(await storedHashes(acme)).toEqual(before);
      expect(await refusals('GET', 'forbidden')).toBe(refusedGets + 2);
    } finally {
      await resumeTeam(t, acme);
    }
  });

  it('stops the run with Nx\'s "Unauthorized" for a token teamcache does not know', async () => {
    const run = await nxRun(freshCopy(), nxRemoteCache(server, 'not-a-teamcache-token'));
    expect(run.status).not.toBe(0);
    // Nx reads the message only from a 401 in text/plain; otherwise "Misconfigured ...".
    expect(run.output).toMatch(/Unauthorized: invalid token/);
    expect(run.output).not.toContain('Misconfigured');
  });

  it(`keeps the run green while ${outOfService} is down: misses (NX_ON_OUTAGE=miss)`, async () => {
    // Every lookup is a 404, so Nx runs the tasks and uploads the same hashes: with PostgreSQL
    // down an outage too (403), with S3 down known to the database (409); Nx skips either.
    const putReason = driver === 's3' ? 'exists' : 'outage';
    const [gets, puts] = [await refusals('GET', 'outage'), await refusals('PUT', putReason)];
    const copy = freshCopy();
    if (driver === 's3') await t.s3!.stop();
    else await pg!.cluster.stop();
    try {
      const run = await nxRun(copy, nxRemoteCache(server, acmeToken));
      expect(run.status).toBe(0);
      expect(remoteHits(run)).toEqual([]);
      expect(cacheSummary(run)).toBe('0/2');
    } finally {
      if (driver === 's3') await t.s3!.restart();
      else await pg!.cluster.start(true);
    }
    expect(await refusals('GET', 'outage')).toBe(gets + 2);
    expect(await refusals('PUT', putReason)).toBe(puts + 2);
  });
});
