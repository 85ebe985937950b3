// How long the admin UI takes to draw its first chart, in headless Chromium (playwright-core).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './servers.mjs';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const FIRST_CHART_DRAWN = `Object.values(window.Chart?.instances ?? {})
  .some((chart) => chart.canvas.id === 'chart-hit-rate')`;

/**
 * CHROMIUM_PATH, else the copy of @sparticuz/chromium that test/support/browser.ts unpacks into
 * os.tmpdir() (the admin UI e2e test makes it); undefined when neither is there.
 */
function chromiumBinary() {
  if (process.env.CHROMIUM_PATH) return { executablePath: process.env.CHROMIUM_PATH };
  const manifest = path.join(ROOT, 'node_modules/@sparticuz/chromium/package.json');
  if (!fs.existsSync(manifest)) return undefined;
  const { version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  const dir = path.join(os.tmpdir(), `teamcache-chromium-${version}`);
  if (!fs.existsSync(path.join(dir, 'chromium'))) return undefined;
  return { executablePath: path.join(dir, 'chromium'), libraryDir: path.join(dir, 'lib') };
}

/**
 * Opens /admin/ui `runs` times in fresh tabs, signs in with the admin token and measures from
 * the click to the first chart on screen (Chart.js has an instance for `chart-hit-rate`) and to
 * the whole dashboard (body[data-state=ready]). Null when no Chromium is found.
 */
export async function adminUiTimings(server, runs) {
  const binary = chromiumBinary();
  if (!binary) return null;
  const { chromium } = await import('playwright-core');
  const env = binary.libraryDir
    ? {
        ...process.env,
        LD_LIBRARY_PATH: [binary.libraryDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      }
    : undefined;
  const browser = await chromium.launch({ executablePath: binary.executablePath, args: ARGS, env });
  const times = [];
  try {
    for (let run = 0; run < runs; run++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      await page.goto(`${server.url}/admin/ui`);
      await page.waitForSelector('#login:not([hidden])');
      await page.fill('#admin-token', server.adminToken);
      const started = performance.now();
      await page.click('#login-form button[type=submit]');
      // Chart.js keeps every chart it drew in Chart.instances. Polled by page.evaluate, which
      // the page's CSP (no 'unsafe-eval') allows, unlike waitForFunction's string predicates.
      while (!(await page.evaluate(FIRST_CHART_DRAWN))) {
        if (performance.now() - started > 120_000) throw new Error('no chart after 120 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const firstChart = performance.now() - started;
      await page.waitForSelector('body[data-state="ready"]', { timeout: 120_000 });
      times.push({ firstChart, ready: performance.now() - started });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return times;
}
