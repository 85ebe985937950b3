import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { openTeamTab } from '../support/admin-ui';
import { launchBrowser } from '../support/browser';
import { listeningPort } from '../support/ports';
import { createTeam } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const GITHUB = 'https://token.actions.githubusercontent.com';
const GITLAB = 'https://gitlab.example.com';
const AUDIENCE = 'https://cache.example.com';
/** Text that would run script (and fetch /admin/ui/x) if the page rendered it as HTML. */
const HTML = '<img src=x onerror="window.__xss=1">';

/** docs/oidc.md's GitHub pair, a GitLab policy with a short lifetime, and one full of HTML. */
const POLICIES = {
  main: {
    name: 'main',
    issuer: GITHUB,
    audience: AUDIENCE,
    conditions: {
      repository_owner_id: { eq: '2020' },
      repository_id: { eq: '424242' },
      ref: { in: ['refs/heads/main'] },
      event_name: { in: ['push'] },
    },
    access: 'read-write',
    tier: 'trusted',
  },
  pr: {
    name: 'pr',
    issuer: GITHUB,
    audience: AUDIENCE,
    conditions: {
      repository_owner_id: { eq: '2020' },
      repository_id: { eq: '424242' },
      event_name: { eq: 'pull_request' },
      head_ref: { glob: 'feature/*' },
      environment: { present: false },
    },
    access: 'read-write',
    tier: 'untrusted',
    scope: '{repository_id}-{head_ref}',
  },
  gitlab: {
    name: 'gitlab-readers',
    issuer: GITLAB,
    audience: AUDIENCE,
    conditions: { project_id: { in: ['5678', '5679'] }, user_login: { ieq: 'CI-Bot' } },
    access: 'read-only',
    tier: 'trusted',
    ttlSeconds: 900,
  },
  html: {
    name: 'html',
    issuer: GITHUB,
    audience: HTML,
    conditions: { repository_id: { eq: '424242' }, actor: { eq: '<b>bot</b>' } },
    access: 'read-write',
    tier: 'untrusted',
    scope: '{repository_id}-<i>{run_id}</i>',
    ttlSeconds: 90,
  },
};

describe('admin UI: the Trust policies panel (CI identity)', () => {
  jest.setTimeout(120_000);

  let t: TestApp;
  let browser: Browser;
  let baseUrl: string;
  const ids: Record<string, string> = {};

  const admin = () => ({ Authorization: `Bearer ${ADMIN_TOKEN}` });

  beforeAll(async () => {
    t = await createTestApp({
      ADMIN_TOKEN,
      OIDC_ISSUERS: `${GITHUB},${GITLAB}`,
      RETENTION_SWEEP_INTERVAL_MS: '0',
    });
    baseUrl = `http://127.0.0.1:${await listeningPort(t.server)}`;
    await createTeam(t, 'acme', 'Acme Inc');
    await createTeam(t, 'empty');
    for (const [key, policy] of Object.entries(POLICIES)) {
      const { body } = await request(t.server)
        .post('/admin/teams/acme/oidc-policies')
        .set(admin())
        .send(policy)
        .expect(201);
      ids[key] = body.id;
    }
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
      readySelector: 'body[data-state="ready"] #oidc-policies[data-state="ready"]',
    });

  /** A row with its conditions sorted (they come in PostgreSQL's key order). */
  const sortedConditions = (cells: string[][]) =>
    cells.map((lines, i) => (i === 3 ? [...lines].sort() : lines));

  /** The panel's rows, as the text of their cells (a cell's lines split). */
  async function rowsOf(page: Page): Promise<string[][][]> {
    const rows = await page.evaluate<string[][]>(`
      [...document.querySelectorAll('#oidc-rows tr')].map((tr) =>
        [...tr.cells].map((td) => td.innerText))`);
    return rows.map((cells) => cells.map((text) => text.split('\n')));
  }

  it("lists the team's policies by name: issuer, audience, each condition, access, tier, scope, lifetime", async () => {
    const { page, errors } = await openTeam('acme');
    const rows = await rowsOf(page);
    // By name, as GET .../oidc-policies answers them.
    expect(rows.map((cells) => cells[0][0])).toEqual(['gitlab-readers', 'html', 'main', 'pr']);
    const byName = Object.fromEntries(rows.map((cells) => [cells[0][0], cells]));

    expect(sortedConditions(byName.main)).toEqual([
      ['main'],
      [GITHUB],
      [AUDIENCE],
      [
        'event_name in [push]',
        'ref in [refs/heads/main]',
        'repository_id eq 424242',
        'repository_owner_id eq 2020',
      ],
      ['read-write'],
      ['trusted'],
      ['–'],
      ['1 h'],
    ]);
    expect([...byName.pr[3]].sort()).toEqual([
      'environment present false',
      'event_name eq pull_request',
      'head_ref glob feature/*',
      'repository_id eq 424242',
      'repository_owner_id eq 2020',
    ]);
    expect(byName.pr.slice(4)).toEqual([
      ['read-write'],
      ['untrusted'],
      ['{repository_id}-{head_ref}'],
      ['1 h'],
    ]);
    expect(sortedConditions(byName['gitlab-readers'])).toEqual([
      ['gitlab-readers'],
      [GITLAB],
      [AUDIENCE],
      ['project_id in [5678, 5679]', 'user_login ieq CI-Bot'],
      ['read-only'],
      ['trusted'],
      ['–'],
      ['15 min'],
    ]);
    // Each condition line, in the order the admin API lists them.
    const { body: listed } = await request(t.server)
      .get('/admin/teams/acme/oidc-policies')
      .set(admin())
      .expect(200);
    for (const policy of listed as { name: string; conditions: Record<string, object> }[]) {
      expect(byName[policy.name][3].map((line) => line.split(' ')[0])).toEqual(
        Object.keys(policy.conditions),
      );
    }
    // The tier reads as a badge: trusted green, untrusted like an overlay.
    expect(await page.getAttribute(`#oidc-rows tr[data-policy="${ids.pr}"] .badge`, 'class')).toBe(
      'badge overlay',
    );
    expect(await page.getAttribute(`#oidc-rows tr[data-policy="${ids.main}"]`, 'title')).toMatch(
      new RegExp(`^policy ${ids.main} · added \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC$`),
    );

    const screenshot = path.join(
      fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-ui-')),
      'admin-ui-oidc.png',
    );
    await page.locator('#oidc-policies').screenshot({ path: screenshot });
    console.log(`Trust policies panel screenshot: ${screenshot}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows an audience, a claim value and a scope holding HTML as text, never as markup', async () => {
    const { page, errors } = await openTeam('acme');
    const html = (await rowsOf(page)).find((cells) => cells[0][0] === 'html')!;
    expect(html[2]).toEqual([HTML]);
    expect([...html[3]].sort()).toEqual(['actor eq <b>bot</b>', 'repository_id eq 424242']);
    expect(html.slice(5)).toEqual([['untrusted'], ['{repository_id}-<i>{run_id}</i>'], ['90 s']]);
    expect(
      await page.locator('#oidc-policies img, #oidc-policies b, #oidc-policies i').count(),
    ).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows the team picked, and what the admin API changed, after a reload', async () => {
    const { page, errors } = await openTeam('acme');
    expect(await rowsOf(page)).toHaveLength(4);

    await page.selectOption('#team', 'empty');
    await page.waitForSelector('#oidc-rows td.muted');
    await page.waitForSelector('body[data-state="ready"] #oidc-policies[data-state="ready"]');
    expect(await rowsOf(page)).toEqual([
      [['no trust policies: no CI job of this team gets a token']],
    ]);

    await request(t.server).delete(`/admin/oidc-policies/${ids.html}`).set(admin()).expect(200);
    await page.selectOption('#team', 'acme');
    await page.waitForSelector(`#oidc-rows tr[data-policy="${ids.main}"]`);
    await page.waitForSelector('body[data-state="ready"] #oidc-policies[data-state="ready"]');
    expect((await rowsOf(page)).map((cells) => cells[0][0])).toEqual([
      'gitlab-readers',
      'main',
      'pr',
    ]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
