import * as fs from 'node:fs';
import { makeDataDir, runCliAsync, ServerProcess } from '../support/server-process';
import { eventually } from '../support/wait';

const JWT_SECRET = 'startup-output-secret-of-at-least-32-bytes';
const ADMIN_TOKEN = 'startup-output-admin-token-of-32-chars-or-more';
/** Nest's own start-up chatter, which `serve` writes at debug only. */
const FRAMEWORK_CONTEXTS = ['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory'];

interface LogLine {
  level: number;
  msg: string;
  context?: string;
  url?: string;
  adminUrl?: string;
}

/** Every line the server wrote, each parsed as JSON (a line that is not JSON fails the test). */
function logLines(server: ServerProcess): LogLine[] {
  return server
    .logs()
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as LogLine);
}

async function untilReported(server: ServerProcess, last: RegExp): Promise<LogLine[]> {
  await eventually(async () => expect(server.logs()).toMatch(last));
  return logLines(server);
}

describe('what `teamcache serve` prints (npm start)', () => {
  jest.setTimeout(120_000);
  const dataDir = makeDataDir();
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('on a first start: JSON lines only, migrations, one ready line with the URL, then next steps', async () => {
    const server = await ServerProcess.start({ DATA_DIR: dataDir, JWT_SECRET });
    const lines = await untilReported(server, /no team yet/);
    await server.stop();
    const messages = lines.map((line) => line.msg);

    const ready = messages.filter((msg) => msg.startsWith('ready: '));
    expect(ready).toEqual([`ready: cache API on ${server.url} (storage: fs)`]);
    const readyAt = messages.indexOf(ready[0]);
    const lastMigration = messages
      .map((msg) => msg.startsWith('applied migration'))
      .lastIndexOf(true);
    expect(lastMigration).toBeGreaterThan(-1);
    expect(readyAt).toBeGreaterThan(lastMigration);
    expect(lines[readyAt].url).toBe(server.url);
    expect(messages.slice(readyAt + 1, readyAt + 3)).toEqual([
      'admin API and UI are off: set ADMIN_TOKEN (at least 32 characters) to turn them on',
      expect.stringContaining(`TURBO_API=${server.url} TURBO_TEAM=my-team`),
    ]);
    expect(lines.filter((line) => FRAMEWORK_CONTEXTS.includes(line.context ?? ''))).toEqual([]);
    // Database start, migrations, ready, admin, next steps: a screenful, not a hundred lines.
    expect(lines.length).toBeLessThanOrEqual(15);
  });

  it('once a team exists: no next steps, and where the admin UI is when ADMIN_TOKEN is set', async () => {
    const created = await runCliAsync(['teams', 'create', 'my-team'], {
      DATA_DIR: dataDir,
      JWT_SECRET,
    });
    expect(created.status).toBe(0);
    const server = await ServerProcess.start({ DATA_DIR: dataDir, JWT_SECRET, ADMIN_TOKEN });
    const lines = await untilReported(server, /admin API and UI on/);
    await server.stop();
    const messages = lines.map((line) => line.msg);
    expect(messages).toContain(`admin API and UI on ${server.url}/admin/ui`);
    expect(messages.filter((msg) => msg.startsWith('applied migration'))).toEqual([]);
    expect(messages.some((msg) => msg.startsWith('no team yet'))).toBe(false);
  });

  it('writes readable lines instead with LOG_FORMAT=pretty (the default on a terminal)', async () => {
    const server = await ServerProcess.start({
      DATA_DIR: dataDir,
      JWT_SECRET,
      LOG_FORMAT: 'pretty',
    });
    await eventually(async () => expect(server.logs()).toMatch(/INFO: \[teamcache\] ready: /));
    await server.stop();
    expect(server.logs()).not.toContain('{"level"');
  });
});
