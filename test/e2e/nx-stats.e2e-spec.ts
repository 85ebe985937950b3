import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import request from 'supertest';
import { NxUsageRecorder } from '../../src/nx/nx-usage.recorder';
import type { Team } from '../../src/teams/team.entity';
import { putArtifact, randomHash } from '../support/artifacts';
import { launchBrowser } from '../support/browser';
import { listeningPort } from '../support/ports';
import { rawRequest } from '../support/raw-http';
import { makeDataDir, runCli } from '../support/server-process';
import { bearer, createTeam, issueToken, pauseTeam } from '../support/teams';
import { createTestApp, TEST_JWT_SECRET, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';
import { postEvents, turboEvent } from '../support/usage';
import { eventually } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const NX_BODY = randomBytes(100);
const TURBO_SIZE = 500;

/** What the stats report for Nx after the scripted sequence below. */
const SCRIPTED_NX = {
  countedBy: 'server',
  hits: 2,
  misses: 1,
  hitRate: 0.6667,
  timeSavedMs: null,
  uploads: 1,
  refusedUploads: 2,
  storage: { artifacts: 1, bytes: NX_BODY.length },
};
/** And for turbo: one upload, one reported remote hit (700 ms) and one miss. */
const SCRIPTED_TURBO = {
  countedBy: 'client-events',
  hits: 1,
  misses: 1,
  hitRate: 0.5,
  timeSavedMs: 700,
  uploads: 1,
  refusedUploads: null,
  storage: { artifacts: 1, bytes: TURBO_SIZE },
};

/** A random Nx task hash: a decimal u64, as nx's hasher prints it. */
const nxHash = () => BigInt(`0x${randomBytes(8).toString('hex')}`).toString();

/**
 * Nx sends no usage events: its hits, misses, uploads and refused uploads are counted by the
 * server (issue 15) and shown per tool by the stats API, the CLI and the admin UI, apart from
 * turbo's numbers. The requests go over raw HTTP, as the Nx client sends them.
 */
describe('Nx usage in the team stats', () => {
  jest.setTimeout(120_000);

  let database: { url: string; drop: () => Promise<void> };
  let dataDir: string;
  let t: TestApp;
  let closed = false;
  let team: Team;
  let port: number;

  const nx = async (method: 'GET' | 'PUT', hash: string, token: string, body?: Buffer) =>
    (
      await rawRequest(port, {
        method,
        path: `/v1/cache/${hash}`,
        headers: { Authorization: `Bearer ${token}` },
        body,
      })
    ).status;
  const stats = (slug: string) =>
    request(t.server).get(`/admin/teams/${slug}/stats`).set(bearer(ADMIN_TOKEN)).expect(200);
  const cli = (...args: string[]) =>
    runCli(args, { DATABASE_URL: database.url, JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: dataDir });
  const recorder = () => t.app.get(NxUsageRecorder);
  const flush = () => recorder().flush();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = makeDataDir();
    t = await createTestApp(
      { ADMIN_TOKEN, DATA_DIR: dataDir, RETENTION_SWEEP_INTERVAL_MS: '0' },
      { databaseUrl: database.url },
    );
    port = await listeningPort(t.server);
    // The tests decide when counts are written (flush); one test lets the timer do it.
    recorder().onModuleDestroy();
    team = await createTeam(t, 'monorepo');
    const { token } = await issueToken(t, team);
    const readOnly = (await issueToken(t, team, { readOnly: true })).token;

    // The scripted Nx run, with the status each request must get.
    const hash = nxHash();
    expect(await nx('GET', hash, token)).toBe(404);
    expect(await nx('PUT', hash, token, NX_BODY)).toBe(200);
    expect(await nx('GET', hash, token)).toBe(200);
    expect(await nx('GET', hash, token)).toBe(200);
    expect(await nx('PUT', hash, token, NX_BODY)).toBe(409);
    expect(await nx('PUT', nxHash(), readOnly, NX_BODY)).toBe(403);
    // Refused before a team is known (no token, a hash checked before the token): not counted.
    expect(await nx('GET', hash, 'not-a-token')).toBe(401);
    expect(await nx('GET', 'not-digits', token)).toBe(404);

    // Turbo, alongside: one upload and the events it reports.
    const turboHash = randomHash();
    await putArtifact(t.server, token, turboHash, randomBytes(TURBO_SIZE)).expect(202);
    await postEvents(t.server, token, [
      turboEvent('REMOTE', 'HIT', turboHash, 700),
      turboEvent('REMOTE', 'MISS', randomHash()),
    ]).expect(200);
  });
  afterAll(async () => {
    if (!closed) await t?.close();
    await database?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts nothing on the request path: the stats show Nx once the recorder has written', async () => {
    const before = (await stats('monorepo')).body;
    expect(before.tools.nx).toMatchObject({ hits: 0, misses: 0, uploads: 0, refusedUploads: 0 });
    expect(recorder().backlog).toEqual({ rows: 1, requests: 6 });

    await flush();
    const rows = await t.dataSource.query(
      `SELECT team_id, tool, to_char(day, 'YYYY-MM-DD') AS day, hits, misses, uploads, refused_uploads
         FROM cache_request_counts`,
    );
    expect(rows).toEqual([
      {
        team_id: team.id,
        tool: 'nx',
        day: new Date().toISOString().slice(0, 10),
        hits: '2',
        misses: '1',
        uploads: '1',
        refused_uploads: '2',
      },
    ]);
  });

  it('reports exactly the scripted Nx requests under tools.nx, apart from turbo', async () => {
    await flush();
    const { body } = await stats('monorepo');
    expect(body.tools).toEqual({ nx: SCRIPTED_NX, turbo: SCRIPTED_TURBO });
    // The existing fields keep their meaning: events are turbo's, artifacts are every tool's.
    expect(body.remote).toEqual({ hits: 1, misses: 1, hitRate: 0.5, timeSavedMs: 700 });
    expect(body.storage).toEqual({ artifacts: 2, bytes: TURBO_SIZE + NX_BODY.length });
    expect(body.uploads).toEqual({ count: 2, bytes: TURBO_SIZE + NX_BODY.length });
  });

  it('counts nothing for a period without those days', async () => {
    const { body } = await request(t.server)
      .get('/admin/teams/monorepo/stats?from=2020-01-01&to=2020-01-31')
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
    expect(body.tools.nx).toMatchObject({ hits: 0, misses: 0, uploads: 0, refusedUploads: 0 });
    expect(body.tools.nx.storage).toEqual(SCRIPTED_NX.storage);
  });

  it("cannot attribute a paused team's refusal (refused before its team is known)", async () => {
    const paused = await createTeam(t, 'paused');
    const { token } = await issueToken(t, paused);
    await pauseTeam(t, paused);
    expect(await nx('PUT', nxHash(), token, NX_BODY)).toBe(403);
    expect(await nx('GET', nxHash(), token)).toBe(404);
    await flush();
    const { body } = await stats('paused');
    expect(body.tools.nx).toMatchObject({ hits: 0, misses: 0, uploads: 0, refusedUploads: 0 });
    expect((await stats('monorepo')).body.tools.nx).toEqual(SCRIPTED_NX);
  });

  it('writes on its own within the flush interval', async () => {
    const other = await createTeam(t, 'timer');
    const { token } = await issueToken(t, other);
    recorder().onModuleInit();
    try {
      expect(await nx('GET', nxHash(), token)).toBe(404);
      await eventually(async () => {
        expect((await stats('timer')).body.tools.nx.misses).toBe(1);
      }, 15_000);
    } finally {
      recorder().onModuleDestroy();
    }
  });

  it('documents tools in the OpenAPI document', async () => {
    const { body } = await request(t.server).get('/docs-json').expect(200);
    const ok = body.paths['/admin/teams/{team}/stats'].get.responses['200'];
    const tools = ok.content['application/json'].schema.properties.tools;
    expect(Object.keys(tools.properties)).toEqual(['turbo', 'nx']);
    expect(Object.keys(tools.properties.nx.properties)).toEqual(Object.keys(SCRIPTED_NX));
  });

  it('shows the tool split in the admin UI', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`http://127.0.0.1:${port}/admin/ui#team=monorepo&days=7`);
      await page.fill('#admin-token', ADMIN_TOKEN);
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });
      const rows = await page.$$eval('#tools tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
      );
      expect(rows).toEqual([
        ['turbo', '1', '1', '50.0%', '1 s', '1', '–', '1 (500 B)'],
        ['nx', '2', '1', '66.7%', '–', '1', '2', '1 (100 B)'],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  describe('teamcache stats (the built CLI)', () => {
    it('prints the same split as JSON and as a "By tool" table', async () => {
      await flush();
      const json = cli('stats', 'monorepo', '--json');
      expect(json.stderr).toBe('');
      expect(JSON.parse(json.stdout).tools).toEqual({ nx: SCRIPTED_NX, turbo: SCRIPTED_TURBO });

      const text = cli('stats', 'monorepo').stdout;
      expect(text).toMatch(/^By tool$/m);
      expect(text).toMatch(/^turbo +1 +1 +50\.0% +700ms +1 +- +1 \(500 B\)$/m);
      expect(text).toMatch(/^nx +2 +1 +66\.7% +- +1 +2 +1 \(100 B\)$/m);
    });

    it('finds the counts written at shutdown', async () => {
      const token = (await issueToken(t, team)).token;
      expect(await nx('GET', nxHash(), token)).toBe(404);
      expect(await nx('GET', nxHash(), token)).toBe(404);
      // The timer is stopped: only the shutdown flush can write these.
      expect(recorder().backlog.requests).toBe(2);
      await t.close();
      closed = true;
      const { tools } = JSON.parse(cli('stats', 'monorepo', '--json').stdout);
      expect(tools.nx).toEqual({ ...SCRIPTED_NX, misses: 3, hitRate: 0.4 });
    });
  });
});
