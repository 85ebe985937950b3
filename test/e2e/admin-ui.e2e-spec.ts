import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { putArtifact, randomHash } from '../support/artifacts';
import { launchBrowser } from '../support/browser';
import { listeningPort } from '../support/ports';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const DAYS = 14;
const DAY_MS = 86_400_000;

/** Two weeks of a busy team: uploads and remote/local hits and misses every day. */
async function seedUsage(t: TestApp): Promise<void> {
  const team = await createTeam(t, 'acme', 'Acme Inc');
  const { token } = await issueToken(t, team);
  await createTeam(t, 'quiet');
  const stored: string[] = [];
  for (let day = 0; day < DAYS; day++) {
    const at = new Date(Date.now() - (DAYS - 1 - day) * DAY_MS);
    for (let i = 0; i < 2 + (day % 3); i++) {
      const hash = randomHash();
      await putArtifact(t.server, token, hash, randomBytes(50_000 + day * 20_000 + i * 7_000), {
        'x-artifact-duration': String(5_000 + i * 1_000),
        ...(i % 2 ? { 'x-artifact-client-ci': 'github-actions' } : {}),
      }).expect(202);
      stored.push(hash);
      await t.dataSource.query(
        'UPDATE artifacts SET created_at = $3, last_accessed_at = $3 WHERE team_id = $1 AND hash = $2',
        [team.id, hash, at],
      );
    }
    // Hit rate climbing from ~30% to ~90% as the cache warms up.
    const hits = 3 + day * 2;
    const misses = Math.max(1, 8 - Math.floor(day / 2));
    // Three runs a day (one on CI); hits go to the artifacts stored so far.
    await t.dataSource.query(
      `INSERT INTO usage_events (team_id, session_id, source, event, hash, duration_ms, client_ci, created_at)
       SELECT $1, md5($5::text || (n % 3)::text)::uuid, 'REMOTE',
              CASE WHEN n <= $2::int THEN 'HIT' ELSE 'MISS' END,
              CASE WHEN n <= $2::int THEN ($4::varchar[])[1 + (n * n) % cardinality($4::varchar[])]
                   ELSE md5(n::text || $5::text) END,
              CASE WHEN n <= $2::int THEN 20000 + n * 1000 ELSE 0 END,
              CASE WHEN n % 3 = 0 THEN 'github-actions' END, $5::timestamptz
         FROM generate_series(1, $2::int + $3::int) AS n`,
      [team.id, hits, misses, stored, at],
    );
    await t.dataSource.query(
      `INSERT INTO usage_events (team_id, session_id, source, event, hash, duration_ms, created_at)
       SELECT $1, md5($2::text || (n % 3)::text)::uuid, 'LOCAL',
              CASE WHEN n <= 4 THEN 'HIT' ELSE 'MISS' END, md5(n::text), 3000, $2::timestamptz
         FROM generate_series(1, 6) AS n`,
      [team.id, at],
    );
  }
}

describe('admin UI (/admin/ui)', () => {
  jest.setTimeout(120_000);

  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' });
  });
  afterAll(() => t.close());

  it('serves chart.js from node_modules and only the known assets', async () => {
    const chart = await request(t.server).get('/admin/ui/assets/chart.umd.js').expect(200);
    expect(chart.headers['content-type']).toMatch(/^text\/javascript/);
    expect(chart.text).toContain('Chart');
    const page = await request(t.server).get('/admin/ui').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const bad of ['nope.js', '..%2F..%2Fpackage.json', 'index.html', 'admin-ui.assets.ts']) {
      await request(t.server).get(`/admin/ui/assets/${bad}`).expect(404);
    }
  });

  // Only these tests need seeded usage and a browser, so only they wait for (or fail with) them.
  describe('in a browser', () => {
    let browser: Browser;
    let baseUrl: string;

    beforeAll(async () => {
      baseUrl = `http://127.0.0.1:${await listeningPort(t.server)}`;
      await seedUsage(t);
      browser = await launchBrowser();
    });
    afterAll(() => browser?.close());

    /** A fresh tab that records every console error and uncaught page error. */
    async function openPage(): Promise<{ page: Page; errors: string[] }> {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${baseUrl}/admin/ui`);
      return { page, errors };
    }

    async function signIn(page: Page, token: string) {
      await page.fill('#admin-token', token);
      await page.click('#login-form button[type=submit]');
    }

    it('asks for the admin token, then plots the usage of a seeded team', async () => {
      const { page, errors } = await openPage();
      await page.waitForSelector('#login:not([hidden])');
      await signIn(page, ADMIN_TOKEN);
      await page.waitForSelector('body[data-state="ready"]', { timeout: 30_000 });

      expect(await page.inputValue('#team')).toBe('acme');
      const charts = await page.evaluate<{ id: string; datasets: number[][] }[]>(`
      Object.values(Chart.instances).map((chart) => ({
        id: chart.canvas.id,
        datasets: chart.data.datasets.map((d) => d.data),
      }))`);
      expect(charts.map((c) => c.id).sort()).toEqual([
        'chart-hit-rate',
        'chart-storage',
        'chart-time-saved',
      ]);

      // The plots show what the API says, day by day.
      const { body: stats } = await request(t.server)
        .get('/admin/teams/acme/stats')
        .query({
          from: new Date(Date.now() - 29 * DAY_MS).toISOString().slice(0, 10),
          to: new Date().toISOString().slice(0, 10),
        })
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .expect(200);
      const daily: { hitRate: number | null; remoteHits: number }[] = stats.daily;
      const hitRate = charts.find((c) => c.id === 'chart-hit-rate')!;
      expect(hitRate.datasets[0]).toEqual(
        daily.map((d) => (d.hitRate === null ? null : d.hitRate * 100)),
      );
      expect(hitRate.datasets[1]).toEqual(daily.map((d) => d.remoteHits));
      expect(hitRate.datasets[0].filter((v) => v !== null)).toHaveLength(DAYS);

      // Every canvas was really drawn on: a good share of its pixels are painted.
      const painted = await page.evaluate<{ id: string; share: number }[]>(`
      [...document.querySelectorAll('canvas')].map((canvas) => {
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted += 1;
        return { id: canvas.id, share: painted / (data.length / 4) };
      })`);
      expect(painted).toHaveLength(3);
      for (const canvas of painted) expect(canvas.share).toBeGreaterThan(0.02);

      const cards = await page.locator('#cards .card').allInnerTexts();
      expect(cards.join('\n')).toContain(`${(stats.remote.hitRate * 100).toFixed(1)}%`);
      expect(await page.locator('#top-artifacts tr').count()).toBe(10);
      expect(await page.locator('#clients tr').count()).toBe(2);

      const screenshot = path.join(
        fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-ui-')),
        'admin-ui.png',
      );
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`admin UI screenshot: ${screenshot}`);
      expect(fs.statSync(screenshot).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
      await page.close();
    });

    it('keeps the token for the tab only (sessionStorage) and switches teams', async () => {
      const { page, errors } = await openPage();
      await signIn(page, ADMIN_TOKEN);
      await page.waitForSelector('body[data-state="ready"]');
      expect(await page.evaluate(`sessionStorage.getItem('teamcache.adminToken')`)).toBe(
        ADMIN_TOKEN,
      );
      expect(await page.evaluate(`localStorage.length`)).toBe(0);

      await page.reload();
      await page.waitForSelector('body[data-state="ready"]');
      await page.selectOption('#team', 'quiet');
      await page.locator('#top-artifacts', { hasText: 'no remote hits' }).waitFor();
      expect(page.url()).toContain('team=quiet');

      await page.click('#sign-out');
      await page.waitForSelector('#login:not([hidden])');
      expect(await page.evaluate(`sessionStorage.length`)).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    });

    it('sends a wrong token back to the sign-in form with a message', async () => {
      const { page } = await openPage();
      await signIn(page, 'not-the-admin-token-0123456789abcdef');
      await page.waitForSelector('body[data-state="login"] #login-error:not(:empty)');
      expect(await page.textContent('#login-error')).toContain('missing or invalid admin token');
      expect(await page.evaluate(`sessionStorage.length`)).toBe(0);
      await page.close();
    });
  });
});

describe('admin UI without ADMIN_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ RETENTION_SWEEP_INTERVAL_MS: '0' })));
  afterAll(() => t.close());

  it.each([
    '/admin/ui',
    '/admin/ui/',
    '/admin/ui/assets/chart.umd.js',
    '/admin/ui/assets/admin-ui.js',
  ])('answers 404 to %s, like the admin API', async (url) => {
    const res = await request(t.server).get(url).expect(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
    await request(t.server).get('/admin/teams/x/stats').expect(404);
  });
});
