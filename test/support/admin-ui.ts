import type { Browser, Page } from 'playwright-core';

/**
 * A tab of the admin UI at `<baseUrl>/admin/ui#team=<team>`, signed in with `adminToken`, once
 * `readySelector` shows (e.g. a panel's data-state="ready"); `errors` collects every console
 * error and page error of the tab, for tests to assert there are none.
 */
export async function openTeamTab(
  browser: Browser,
  options: { baseUrl: string; adminToken: string; team: string; readySelector: string },
): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${options.baseUrl}/admin/ui#team=${options.team}`);
  await page.fill('#admin-token', options.adminToken);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector(options.readySelector);
  return { page, errors };
}
