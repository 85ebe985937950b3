import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import type { IssuedToken } from '../../src/tokens/tokens.service';
import { TrustTier } from '../../src/trust/trust-tier';
import { putArtifact, randomHash } from '../support/artifacts';
import { openTeamTab } from '../support/admin-ui';
import { launchBrowser } from '../support/browser';
import { listeningPort } from '../support/ports';
import { createTeam, issueToken, revokeToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
/** Hashes chosen so the panel's (hash, scope) order is the order they are listed in here. */
const SHARED = '1111111111111111';
const FROM_HTML_NAME = '2222222222222222';
const FROM_REVOKED = '3333333333333333';
const BEFORE_PROVENANCE = '4444444444444444';
const GIT_SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
/** A token name that would run script (and fetch /admin/ui/x) if the page rendered it as HTML. */
const HTML_NAME = '<img src=x onerror="window.__xss=1">';
/** More than one page of the panel (50 rows). */
const BUSY_ARTIFACTS = 60;

interface Seeded {
  main: IssuedToken;
  pr: IssuedToken;
  html: IssuedToken;
  busyHashes: string[];
}

/**
 * Team acme: one hash stored by the trusted token "main" and by the untrusted "pr" (scope pr-7),
 * one by an untrusted token named with HTML (pr-8), one by a since revoked token, one whose row
 * predates provenance; under immutable trusted entries and 3 days of overlay retention.
 * Team busy: more stored versions than one page holds.
 */
async function seed(t: TestApp): Promise<Seeded> {
  const acme = await createTeam(t, 'acme', 'Acme Inc');
  const main = await issueToken(t, acme, { name: 'main' });
  const pr = await issueToken(t, acme, {
    name: 'pr',
    tier: TrustTier.Untrusted,
    overlayScope: 'pr-7',
  });
  const html = await issueToken(t, acme, {
    name: HTML_NAME,
    tier: TrustTier.Untrusted,
    overlayScope: 'pr-8',
  });
  const oldCi = await issueToken(t, acme, { name: 'old-ci' });
  await putArtifact(t.server, main.token, SHARED, randomBytes(4096), {
    'x-artifact-sha': GIT_SHA,
    'x-artifact-client-ci': 'github-actions',
  }).expect(202);
  await putArtifact(t.server, pr.token, SHARED, randomBytes(1000)).expect(202);
  await putArtifact(t.server, html.token, FROM_HTML_NAME, randomBytes(100), {
    'x-artifact-client-ci': '<b>ci</b>',
  }).expect(202);
  await putArtifact(t.server, oldCi.token, FROM_REVOKED, randomBytes(100)).expect(202);
  await revokeToken(t, oldCi.id);
  await putArtifact(t.server, main.token, BEFORE_PROVENANCE, randomBytes(100)).expect(202);
  // As a row written before trust tiers recorded writers.
  await t.dataSource.query(
    `UPDATE artifacts SET writer_token_id = NULL, writer_token_name = NULL
      WHERE team_id = $1 AND hash = $2`,
    [acme.id, BEFORE_PROVENANCE],
  );
  await request(t.server)
    .patch('/admin/teams/acme/tier-settings')
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .send({ trustedEntries: 'immutable', overlayRetentionDays: 3 })
    .expect(200);

  const busy = await createTeam(t, 'busy');
  const { token } = await issueToken(t, busy, { name: 'ci' });
  const busyHashes = Array.from({ length: BUSY_ARTIFACTS }, randomHash);
  for (const hash of busyHashes) {
    await putArtifact(t.server, token, hash, randomBytes(64)).expect(202);
  }
  return { main, pr, html, busyHashes };
}

describe('admin UI: the Artifacts panel (who wrote each stored version)', () => {
  jest.setTimeout(120_000);

  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;
  let seeded: Seeded;

  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' });
    baseUrl = `http://127.0.0.1:${await listeningPort(t.server)}`;
    seeded = await seed(t);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A signed-in tab on `team`'s view that records every console error and page error. */
  const openTeam = (team: string) =>
    openTeamTab(browser, {
      baseUrl,
      adminToken: ADMIN_TOKEN,
      team,
      readySelector: 'body[data-state="ready"] #artifacts[data-state="ready"]',
    });

  /** The panel's rows, as the text of their cells. */
  function rowsOf(page: Page): Promise<string[][]> {
    return page.evaluate<string[][]>(`
      [...document.querySelectorAll('#artifacts-rows tr')].map((tr) =>
        [...tr.cells].map((td) => td.innerText))`);
  }

  /** Runs `action` (a click), then waits for the panel to show its outcome. */
  async function andWait(page: Page, action: Promise<void>) {
    await action;
    await page.waitForSelector('#artifacts[data-state="ready"]');
  }

  it('lists each stored version with where it lives, its writer, git sha, CI, size and time', async () => {
    const { page, errors } = await openTeam('acme');
    const rows = await rowsOf(page);
    expect(rows.map(([hash, location, writer]) => [hash, location, writer])).toEqual([
      [`${SHARED} (turbo)`, 'trusted', 'main'],
      [`${SHARED} (turbo)`, 'overlay pr-7', 'pr'],
      [`${FROM_HTML_NAME} (turbo)`, 'overlay pr-8', HTML_NAME],
      [`${FROM_REVOKED} (turbo)`, 'trusted', 'old-ci revoked'],
      [`${BEFORE_PROVENANCE} (turbo)`, 'trusted', 'unknown (before provenance)'],
    ]);
    expect(rows.map((r) => r.slice(3, 6))).toEqual([
      [GIT_SHA.slice(0, 7), 'github-actions', '4.0 KiB'],
      ['–', '–', '1000 B'],
      ['–', '<b>ci</b>', '100 B'],
      ['–', '–', '100 B'],
      ['–', '–', '100 B'],
    ]);
    const { body } = await request(t.server)
      .get('/admin/teams/acme/artifacts')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    const storedAt: string[] = body.versions.map((v: { storedAt: string }) => v.storedAt);
    expect(rows.map((r) => r[6])).toEqual(storedAt.map((at) => at.slice(0, 16).replace('T', ' ')));

    const settings = await page.textContent('#tier-settings');
    expect(settings).toContain('Trusted entries: immutable');
    expect(settings).toContain('overlay retention: 3 days (team setting)');
    expect(settings).toContain('overlays now: 2 scopes, 2 versions, 1.1 KiB');
    expect(await page.isHidden('#artifacts-more')).toBe(true);
    expect(await page.isHidden('#artifacts-filter')).toBe(true);

    const screenshot = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-ui-')),
      'admin-ui-artifacts.png',
    );
    await page.locator('#artifacts').screenshot({ path: screenshot });
    console.log(`Artifacts panel screenshot: ${screenshot}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('narrows the list to one writer on a click, keeps it in the URL, and clears it', async () => {
    const { page, errors } = await openTeam('acme');
    const { pr, main } = seeded;

    await andWait(page, page.click(`#artifacts-rows button[data-writer="${pr.id}"]`));
    expect((await rowsOf(page)).map((r) => r.slice(0, 3))).toEqual([
      [`${SHARED} (turbo)`, 'overlay pr-7', 'pr'],
    ]);
    expect(await page.textContent('#artifacts-filter-label')).toBe(
      `Only versions written by pr ${pr.id}`,
    );
    expect(new URL(page.url()).hash).toContain(`writer=${pr.id}`);

    // A reload (or a shared link) shows the same filtered list, the writer named again.
    await page.reload();
    await page.waitForSelector('body[data-state="ready"] #artifacts[data-state="ready"]');
    expect((await rowsOf(page)).map((r) => r[2])).toEqual(['pr']);
    expect(await page.textContent('#artifacts-filter-label')).toContain('written by pr');

    await andWait(page, page.click('#artifacts-clear'));
    expect(await rowsOf(page)).toHaveLength(5);
    expect(await page.isHidden('#artifacts-filter')).toBe(true);
    expect(new URL(page.url()).hash).not.toContain('writer=');

    // The trusted writer of the same hash: only its trusted version.
    await andWait(page, page.click(`#artifacts-rows button[data-writer="${main.id}"]`));
    expect((await rowsOf(page)).map((r) => r.slice(0, 3))).toEqual([
      [`${SHARED} (turbo)`, 'trusted', 'main'],
    ]);

    // Another team's list starts unfiltered.
    await page.selectOption('#team', 'busy');
    await page.waitForSelector('#artifacts-filter[hidden]', { state: 'attached' });
    await page.waitForSelector('body[data-state="ready"] #artifacts[data-state="ready"]');
    expect(await rowsOf(page)).toHaveLength(50);
    expect(new URL(page.url()).hash).not.toContain('writer=');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a token name (and a CI name) holding HTML as text, never as markup', async () => {
    const { page, errors } = await openTeam('acme');
    const htmlRow = (await rowsOf(page))[2];
    expect(htmlRow[2]).toBe(HTML_NAME);
    expect(htmlRow[4]).toBe('<b>ci</b>');
    expect(await page.locator('#artifacts img, #artifacts b').count()).toBe(0);

    await andWait(page, page.click(`#artifacts-rows button[data-writer="${seeded.html.id}"]`));
    expect(await page.textContent('#artifacts-filter-label strong')).toBe(HTML_NAME);
    expect(await page.locator('#artifacts img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the first page, and the next one with More', async () => {
    const { page, errors } = await openTeam('busy');
    expect(await rowsOf(page)).toHaveLength(50);
    expect(await page.isVisible('#artifacts-more')).toBe(true);

    await andWait(page, page.click('#artifacts-more'));
    const rows = await rowsOf(page);
    expect(rows.map((r) => r[0].replace(' (turbo)', ''))).toEqual([...seeded.busyHashes].sort());
    expect(await page.isHidden('#artifacts-more')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
