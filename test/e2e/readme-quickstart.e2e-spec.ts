import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BackgroundShell,
  copyCheckout,
  installTurbo,
  markedBlocks,
  portIsFree,
  runBash,
  userEnv,
} from '../support/quickstart';
import { postmasterPid } from '../support/server-process';
import { createMonorepo } from '../support/turbo-repo';
import { eventually } from '../support/wait';

const ROOT = path.resolve(__dirname, '../..');
/** The README's quick start serves here, and its commands say so. */
const README_PORT = 3000;
const README_URL = `http://localhost:${README_PORT}`;

interface RequestLine {
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
}

/** The server's request log lines (JSON, as stdout is not a terminal here). */
function requests(logs: string): RequestLine[] {
  return logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as RequestLine)
    .filter((line) => line.req && line.res);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * README.md's quick start, run as written: its marked blocks in a copy of the repository (what
 * a clone would hold: no node_modules, no dist, no .data), the server block in
 * the background as in a terminal of its own, then the token block and, in a small turborepo
 * with turbo installed, the turbo block.
 */
describe('README quick start, as a user types it', () => {
  jest.setTimeout(10 * 60_000);
  const blocks = markedBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  let checkout: string;
  let turborepo: string | undefined;
  let server: BackgroundShell | undefined;

  beforeAll(async () => {
    if (!(await portIsFree(README_PORT))) {
      throw new Error(
        `port ${README_PORT} is in use: the README's quick start serves on ${README_URL}, so ` +
          `this test needs it free (see what listens there: ss -ltnp 'sport = :${README_PORT}')`,
      );
    }
    checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-readme-'));
  });

  afterAll(async () => {
    // Only reached with a server still up when the test failed midway.
    await server?.stop();
    if (checkout) fs.rmSync(checkout, { recursive: true, force: true });
    if (turborepo) fs.rmSync(turborepo, { recursive: true, force: true });
  });

  it('marks the server, token and turbo blocks, with the commands a user types', () => {
    expect(blocks.server).toBe('npm ci && npm start');
    expect(blocks.token).toContain('npx teamcache teams create my-team');
    expect(blocks.token).toContain(
      'export TURBO_TOKEN=$(npx teamcache tokens issue --team my-team --name laptop)',
    );
    expect(blocks.turbo).toContain(`TURBO_API=${README_URL} TURBO_TEAM=my-team`);
    expect(blocks.turbo.match(/^npx turbo run build\b/gm)).toHaveLength(2);
  });

  it('goes from a fresh copy to FULL TURBO from the remote cache', async () => {
    const started = Date.now();
    expect(copyCheckout(ROOT, checkout)).toBeGreaterThan(0);

    // As .ci/run's own `npm ci`: no audit, funding or update-check calls to the registry.
    const npmQuiet = {
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    server = new BackgroundShell(blocks.server, { cwd: checkout, env: userEnv(npmQuiet) });
    // `npm ci` ends where npm starts the start script's lifecycle.
    const installedAt = await server.waitFor(/^> teamcache@\S+ prestart$/m, 6 * 60_000);
    const readyAt = await server.waitFor(/ready: cache API on /, 7 * 60_000);
    expect(server.logs()).toContain(`ready: cache API on ${README_URL} (storage: fs)`);
    await server.waitFor(/no team yet: /, readyAt + 10_000);
    expect(server.logs()).toMatch(
      new RegExp(`no team yet: .*TURBO_API=${README_URL} TURBO_TEAM=my-team`),
    );

    turborepo = createMonorepo(['alpha', 'beta']);
    installTurbo(turborepo);
    const commandsStartedAt = Date.now();
    const run = await runBash(
      [
        'set -euo pipefail',
        `cd '${checkout}'`,
        blocks.token,
        'test -n "${TURBO_TOKEN:-}" || { echo "the token block left TURBO_TOKEN empty" >&2; exit 1; }',
        `cd '${turborepo}'`,
        blocks.turbo,
      ].join('\n'),
      {
        cwd: checkout,
        env: userEnv({ TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' }),
        timeoutMs: 3 * 60_000,
      },
    );
    const commandsMs = Date.now() - commandsStartedAt;
    expect({ status: run.status, output: run.output }).toMatchObject({ status: 0 });

    // First run: both tasks miss and upload; second run, without a local cache: both hit.
    expect(run.output.match(/Remote caching enabled/g)).toHaveLength(2);
    expect(
      [...run.output.matchAll(/Cached:\s+(\d+) cached, (\d+) total/g)].map((m) => m[1]),
    ).toEqual(['0', '2']);
    expect(run.output.match(/cache miss, executing/g)).toHaveLength(2);
    expect(run.output.match(/cache hit, replaying logs/g)).toHaveLength(2);
    expect(run.output.match(/>>> FULL TURBO/g)).toHaveLength(1);
    expect(run.output.indexOf('>>> FULL TURBO')).toBeGreaterThan(
      run.output.lastIndexOf('cache miss, executing'),
    );
    // ...and the server saw them: two uploads stored, two downloads served.
    const artifactCalls = (method: string, status: number) =>
      requests(server!.logs()).filter(
        (line) =>
          line.req!.method === method &&
          /^\/v8\/artifacts\/[0-9a-f]+/.test(line.req!.url ?? '') &&
          line.res!.statusCode === status,
      );
    expect(artifactCalls('PUT', 202)).toHaveLength(2);
    expect(artifactCalls('GET', 200)).toHaveLength(2);

    // SIGTERM to the server's process group: npm, node and the embedded PostgreSQL all go.
    const dataDir = path.join(checkout, '.data');
    expect(postmasterPid(dataDir)).toBeDefined();
    expect(await server.stop()).not.toBe('still running');
    expect(server.logs()).toContain('embedded PostgreSQL stopped');
    await eventually(async () => expect(postmasterPid(dataDir)).toBeUndefined(), 15_000);
    server = undefined;

    console.log(
      `README quick start: npm ci ${seconds(installedAt)}, npm start to ready ` +
        `${seconds(readyAt - installedAt)}, teams + tokens + two turbo runs ${seconds(commandsMs)}, ` +
        `whole test ${seconds(Date.now() - started)}`,
    );
  });
});
