import * as fs from 'node:fs';
import { freePort } from '../support/ports';
import { makeDataDir, ServerProcess } from '../support/server-process';
import { eventually } from '../support/wait';

const JWT_SECRET = 'admin-listener-secret-of-at-least-32-bytes';
const ADMIN_TOKEN = 'admin-listener-admin-token-of-32-chars-or-more';
const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** ADMIN_PORT: the admin API and UI on their own listener, absent from the public port. */
describe('ADMIN_PORT', () => {
  jest.setTimeout(120_000);
  const dataDir = makeDataDir();
  let server: ServerProcess;
  let adminUrl: string;

  beforeAll(async () => {
    const adminPort = await freePort();
    server = await ServerProcess.start({
      DATA_DIR: dataDir,
      JWT_SECRET,
      ADMIN_TOKEN,
      ADMIN_PORT: String(adminPort),
    });
    // ADMIN_HOST unset: loopback.
    adminUrl = `http://127.0.0.1:${adminPort}`;
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['/admin/teams', '//admin/teams', '/ADMIN/teams', '/%61dmin/teams', '/admin/ui'])(
    'answers %s on the public port 404, as if it did not exist',
    async (path) => {
      const res = await fetch(`${server.url}${path}`, { headers: asAdmin });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'not_found' });
    },
  );

  it('serves the admin API and UI on the admin port', async () => {
    const created = await fetch(`${adminUrl}/admin/teams`, {
      method: 'POST',
      headers: { ...asAdmin, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'listener-team' }),
    });
    expect(created.status).toBe(201);
    const teams = (await (await fetch(`${adminUrl}/admin/teams`, { headers: asAdmin })).json()) as {
      slug: string;
    }[];
    expect(teams.map((team) => team.slug)).toEqual(['listener-team']);
    const ui = await fetch(`${adminUrl}/admin/ui`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(`${adminUrl}/admin/teams`)).status).toBe(401);
  });

  it('keeps the cache API, health and metrics on the public port only', async () => {
    expect((await fetch(`${server.url}/v8/artifacts/status`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    const cacheOnAdmin = await fetch(`${adminUrl}/v8/artifacts/status`);
    expect(cacheOnAdmin.status).toBe(404);
    expect((await fetch(`${adminUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('says where each listener is in its ready lines', async () => {
    await eventually(async () => expect(server.logs()).toContain(`${adminUrl}/admin/ui`));
    const ready = server
      .logs()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; url?: string; adminUrl?: string })
      .find((line) => line.msg.startsWith('ready: '));
    expect(ready).toMatchObject({ url: server.url, adminUrl });
  });
});
