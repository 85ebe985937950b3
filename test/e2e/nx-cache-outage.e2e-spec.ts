import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import { INDEX_RECHECK_MS } from '../../src/artifacts/artifacts.service';
import { AUTH_RECHECK_MS } from '../../src/auth/cache-auth.service';
import type { Team } from '../../src/teams/team.entity';
import {
  adminUrlThrough,
  type DependencyProxy,
  nxBody,
  nxCounters,
  nxGet,
  nxPut,
  randomNxHash,
  startDependencyProxy,
  testPostgresAddress,
} from '../support/nx-cache';
import { startS3Server, type TestS3Server } from '../support/s3-server';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, type TestApp } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

const TEXT = 'text/plain';
/** What Nx hears while a dependency is down, per NX_ON_OUTAGE: a miss and a skip, or 503. */
const MODES = [
  ['miss', 404, 403],
  ['fail', 503, 503],
] as const;
type Mode = (typeof MODES)[number][0];

/** An app with one team, its token, and one entry stored while everything was up. */
interface Tenant {
  t: TestApp;
  team: Team;
  token: string;
  hash: string;
  body: Buffer;
}

async function tenantOf(t: TestApp): Promise<Tenant> {
  const team = await createTeam(t, 'acme');
  const { token } = await issueToken(t, team);
  const hash = randomNxHash();
  const body = nxBody(3_000);
  expect((await nxPut(t.server, hash, body, token)).status).toBe(200);
  return { t, team, token, hash, body };
}

/** GET and PUT answer per NX_ON_OUTAGE, in text/plain, counted as outages (not errors). */
async function expectOutageAnswers(tenant: Tenant, get: number, put: number) {
  const { t, team, token, hash } = tenant;
  const before = await nxCounters(t.server, team.slug);
  const read = await nxGet(t.server, hash, token);
  expect(read.status).toBe(get);
  expect(read.headers['content-type']).toBe(TEXT);
  const fresh = randomNxHash();
  const write = await nxPut(t.server, fresh, nxBody(1_000), token);
  expect(write.status).toBe(put);
  expect(write.headers['content-type']).toBe(TEXT);
  const after = await nxCounters(t.server, team.slug);
  expect(after.refusals('GET', 'outage')).toBe(before.refusals('GET', 'outage') + 1);
  expect(after.refusals('PUT', 'outage')).toBe(before.refusals('PUT', 'outage') + 1);
  expect(after.refusals('GET', 'error') + after.refusals('PUT', 'error')).toBe(0);
  return fresh;
}

/** The stored entry comes back byte for byte, and a new entry can be stored and read. */
async function expectHealthy({ t, token, hash, body }: Tenant) {
  await eventually(async () => {
    const res = await nxGet(t.server, hash, token);
    expect(res.status).toBe(200);
    expect(res.body.equals(body)).toBe(true);
  }, 20_000);
  const next = randomNxHash();
  const bytes = nxBody(2_000);
  expect((await nxPut(t.server, next, bytes, token)).status).toBe(200);
  expect((await nxGet(t.server, next, token)).body.equals(bytes)).toBe(true);
}

beforeAll(() => Logger.overrideLogger(false));

/** One app per NX_ON_OUTAGE mode, on one s3rver and one PostgreSQL proxy that can fail. */
describe('Nx cache API while a dependency is down', () => {
  let s3: TestS3Server;
  let pgProxy: DependencyProxy;
  const tenants = {} as Record<Mode, Tenant>;
  /** Hashes of PUTs refused during an outage: none may show up afterwards. */
  const refused: string[] = [];

  beforeAll(async () => {
    s3 = await startS3Server();
    pgProxy = await startDependencyProxy(testPostgresAddress());
    for (const [mode] of MODES) {
      // No memory cache: the stored entry's bytes must come from S3.
      const env = { ...s3.env, NX_ON_OUTAGE: mode, MEMORY_CACHE_BYTES: '0' };
      tenants[mode] = await tenantOf(
        await createTestApp(env, { adminUrl: adminUrlThrough(pgProxy) }),
      );
    }
  });
  afterAll(async () => {
    await s3.restart();
    await pgProxy.restore();
    for (const [mode] of MODES) await tenants[mode]?.t.close();
    await pgProxy.close();
    await s3.close();
  });

  /** Serving again: the stored entry, a new one, and none of the refused PUTs. */
  async function expectRecovered() {
    for (const [mode] of MODES) {
      const tenant = tenants[mode];
      await expectHealthy(tenant);
      for (const hash of refused) {
        expect((await nxGet(tenant.t.server, hash, tenant.token)).status).toBe(404);
      }
    }
  }

  describe('S3 stopped', () => {
    beforeAll(() => s3.stop());

    it.each(MODES)(
      'NX_ON_OUTAGE=%s: GET of a stored entry answers %d, PUT %d, counted as an outage',
      async (mode, get, put) => {
        refused.push(await expectOutageAnswers(tenants[mode], get, put));
      },
    );

    it('serves again once S3 is back, with nothing of the refused PUTs', async () => {
      await s3.restart();
      await expectRecovered();
    });
  });

  describe('PostgreSQL unreachable (its port closed)', () => {
    beforeAll(async () => {
      await pgProxy.refuse();
      // Nothing this process remembers (verified tokens, artifact rows) is fresh any more.
      await sleep(Math.max(AUTH_RECHECK_MS, INDEX_RECHECK_MS) + 100);
    });

    it.each(MODES)(
      'NX_ON_OUTAGE=%s: GET of a stored entry answers %d, PUT %d, counted as an outage',
      async (mode, get, put) => {
        refused.push(await expectOutageAnswers(tenants[mode], get, put));
      },
    );

    it('serves again once PostgreSQL is back, with nothing of the refused PUTs', async () => {
      await pgProxy.restore();
      await expectRecovered();
    });
  });
});

/**
 * Nx has no client timeout: a request held on a hung dependency would hang the user's CI job.
 * S3's own request timeout is 30 s and PostgreSQL's is none, so an answer within a few seconds
 * is NX_TIMEOUT_MS at work.
 */
describe('Nx cache API with a dependency that hangs (NX_TIMEOUT_MS=500)', () => {
  const ANSWER_WITHIN_MS = 5_000;
  let s3: TestS3Server;
  let s3Proxy: DependencyProxy;
  let pgProxy: DependencyProxy;
  let tenant: Tenant;

  beforeAll(async () => {
    s3 = await startS3Server();
    s3Proxy = await startDependencyProxy({ port: s3.port });
    pgProxy = await startDependencyProxy(testPostgresAddress());
    const t = await createTestApp(
      { ...s3.env, S3_PORT: String(s3Proxy.port), NX_TIMEOUT_MS: '500', MEMORY_CACHE_BYTES: '0' },
      { adminUrl: adminUrlThrough(pgProxy) },
    );
    tenant = await tenantOf(t);
  });
  afterAll(async () => {
    await s3Proxy.restore();
    await pgProxy.restore();
    await tenant?.t.close();
    await s3Proxy.close();
    await pgProxy.close();
    await s3.close();
  });

  /** A GET of the stored entry and a PUT of a new one, each answered within the bound. */
  async function expectBoundedAnswers() {
    const { t, token, hash } = tenant;
    let started = Date.now();
    const read = await nxGet(t.server, hash, token);
    expect({ status: read.status, fast: Date.now() - started < ANSWER_WITHIN_MS }).toEqual({
      status: 404,
      fast: true,
    });
    started = Date.now();
    const write = await nxPut(t.server, randomNxHash(), nxBody(1_000), token);
    expect({ status: write.status, fast: Date.now() - started < ANSWER_WITHIN_MS }).toEqual({
      status: 403,
      fast: true,
    });
  }

  it('answers GET 404 and PUT 403 within the bound while S3 hangs', async () => {
    s3Proxy.stall();
    try {
      await expectBoundedAnswers();
    } finally {
      await s3Proxy.restore();
    }
  });

  it('answers GET 404 and PUT 403 within the bound while PostgreSQL hangs', async () => {
    // The entry's row is no longer remembered: the GET has to ask PostgreSQL.
    await sleep(INDEX_RECHECK_MS + 100);
    pgProxy.stall();
    try {
      await expectBoundedAnswers();
    } finally {
      await pgProxy.restore();
    }
  });

  it('serves again once both answer', async () => {
    await expectHealthy(tenant);
  });
});

/** Open descriptors of this process on files under `dir` (/proc/self/fd: these machines run Linux). */
function openFilesUnder(dir: string): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false; // closed meanwhile (the descriptor of readdir itself)
    }
  }).length;
}

describe('Nx cache API with a dependency that answers late (NX_TIMEOUT_MS=500)', () => {
  let pgProxy: DependencyProxy;
  let t: TestApp;

  beforeAll(async () => {
    pgProxy = await startDependencyProxy(testPostgresAddress());
    t = await createTestApp({ NX_TIMEOUT_MS: '500' }, { adminUrl: adminUrlThrough(pgProxy) });
  });
  afterAll(async () => {
    await pgProxy.restore();
    await t?.close();
    await pgProxy.close();
  });

  it('leaves no body open of a GET it answered 404 before the row arrived', async () => {
    const team = await createTeam(t, 'late');
    const { token } = await issueToken(t, team);
    const hash = randomNxHash();
    // Over 256 KiB: fs storage streams it from an open descriptor.
    expect((await nxPut(t.server, hash, nxBody(1024 * 1024), token)).status).toBe(200);
    expect((await nxGet(t.server, hash, token)).status).toBe(200);
    await sleep(INDEX_RECHECK_MS + 100);
    expect(openFilesUnder(t.config.dataDir)).toBe(0);

    pgProxy.slow(1_000);
    expect((await nxGet(t.server, hash, token)).status).toBe(404);
    // The row arrives a second late and the lookup goes on to open the body: nobody reads it.
    await sleep(2_000);
    await pgProxy.restore();
    expect(openFilesUnder(t.config.dataDir)).toBe(0);
  });
});
