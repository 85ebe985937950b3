import { randomBytes } from 'node:crypto';
import { INDEX_RECHECK_MS } from '../../src/artifacts/artifacts.service';
import { AUTH_RECHECK_MS } from '../../src/auth/cache-auth.service';
import {
  checkServed,
  distinctUpload,
  Faults,
  noFaults,
  putHeaders,
  Replicas,
  send,
  startReplicaSet,
} from '../support/replicas';
import type { ServerProcess } from '../support/server-process';
import { sleep } from '../support/wait';

/** Past the documented staleness bound (INDEX_RECHECK_MS) with room for a loaded CI machine. */
const SETTLED_MS = INDEX_RECHECK_MS + 500;
const hex = () => randomBytes(8).toString('hex');

/**
 * Trust tiers across processes (issue 16 on top of issue 12's model): a server with WORKERS=2
 * and one more replica on one database and store. Same-hash uploads of a trusted and an
 * untrusted token race on different processes; the trusted namespace must only ever hold the
 * trusted upload, whole, on every process; and under immutable trusted entries exactly one of
 * racing trusted uploads stays, whole, everywhere.
 */
describe('trust tiers on several processes (one database and store)', () => {
  jest.setTimeout(180_000);
  let set: Replicas;
  let workers: ServerProcess;
  let replica: ServerProcess;
  let faults: Faults;
  let untrusted: string;
  let strictToken: string;

  const issue = (...args: string[]) => {
    const issued = set.cli(['tokens', 'issue', ...args]);
    if (issued.status !== 0) throw new Error(issued.stderr);
    return issued.stdout.trim();
  };

  beforeAll(async () => {
    set = await startReplicaSet('fs', { RETENTION_SWEEP_INTERVAL_MS: '1000' });
    untrusted = issue('--team', 'acme', '--untrusted', '--scope', 'pr-1');
    for (const args of [
      ['teams', 'create', 'strict'],
      ['teams', 'set-tiers', 'strict', '--trusted-entries', 'immutable'],
    ]) {
      const result = set.cli(args);
      if (result.status !== 0) throw new Error(result.stderr);
    }
    strictToken = issue('--team', 'strict');
    [workers, replica] = await Promise.all([set.start({ WORKERS: '2' }), set.start()]);
    // Tier settings reach a process with its token's verification (at most AUTH_RECHECK_MS).
    await sleep(AUTH_RECHECK_MS);
  });
  afterAll(() => set?.stop());
  beforeEach(() => (faults = noFaults()));
  afterEach(() => {
    if (faults.details.length > 0) console.log(faults.details.slice(0, 20).join('\n'));
  });

  const get = (server: ServerProcess, hash: string, token: string) =>
    send(server.url, 'GET', `/v8/artifacts/${hash}`, token);
  const put = (
    server: ServerProcess,
    hash: string,
    token: string,
    upload: ReturnType<typeof distinctUpload>,
  ) => send(server.url, 'PUT', `/v8/artifacts/${hash}`, token, upload.body, putHeaders(upload));

  /** Every process answers `token` with `expected` (a tag, or null: a miss), on new connections. */
  async function expectEverywhere(hash: string, token: string, expected: string | null) {
    for (const server of [workers, workers, workers, replica, replica]) {
      const answer = await get(server, hash, token);
      const tag =
        answer.status === 404 ? null : checkServed(answer, faults, `${hash}@${server.url}`);
      if (tag !== expected) {
        faults.lost += 1;
        faults.details.push(
          `${hash} on ${server.url}: served ${tag ?? 'a miss'}, expected ${expected ?? 'a miss'}`,
        );
      }
    }
  }

  it('racing trusted and untrusted uploads of one hash: the trusted namespace holds only the trusted one, everywhere', async () => {
    await Promise.all(
      Array.from({ length: 16 }, async (_, round) => {
        const hash = hex();
        const clean = distinctUpload(`${hash}/clean`, 2_000 + round * 500);
        const poison = distinctUpload(`${hash}/poison`, 300_000);
        const [mainOn, prOn] = round % 2 ? [workers, replica] : [replica, workers];
        const answers = await Promise.all([
          put(prOn, hash, untrusted, poison),
          put(mainOn, hash, set.token, clean),
        ]);
        expect(answers.map((a) => a.status)).toEqual([202, 202]);
        await sleep(SETTLED_MS);
        await expectEverywhere(hash, set.token, clean.tag);
        await expectEverywhere(hash, untrusted, clean.tag);
      }),
    );
    expect(faults).toEqual(noFaults());
  });

  it('an untrusted upload after trusted misses elsewhere stays invisible to trusted readers, served to its own scope', async () => {
    await Promise.all(
      Array.from({ length: 12 }, async (_, round) => {
        const hash = hex();
        const [writer, other] = round % 2 ? [workers, replica] : [replica, workers];
        for (const server of [other, other, writer]) {
          expect((await get(server, hash, set.token)).status).toBe(404);
        }
        const poison = distinctUpload(`${hash}/poison`, 5_000);
        expect((await put(writer, hash, untrusted, poison)).status).toBe(202);
        await sleep(SETTLED_MS);
        await expectEverywhere(hash, set.token, null);
        await expectEverywhere(hash, untrusted, poison.tag);
      }),
    );
    expect(faults).toEqual(noFaults());
  });

  it('immutable trusted entries: of racing trusted uploads on different processes exactly one stays, whole, everywhere', async () => {
    await Promise.all(
      Array.from({ length: 12 }, async (_, round) => {
        const hash = hex();
        const uploads = [1, 2, 3].map((i) => distinctUpload(`${hash}/${i}`, 1_000 * i + round));
        const answers = await Promise.all(
          uploads.map((upload, i) => put(i % 2 ? workers : replica, hash, strictToken, upload)),
        );
        expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
        await sleep(SETTLED_MS);
        const served = checkServed(await get(workers, hash, strictToken), faults, hash);
        const winner = uploads.find((upload) => upload.tag === served);
        if (!winner) {
          faults.lost += 1;
          faults.details.push(`${hash}: served ${served}`);
          return;
        }
        // A later trusted upload changes nothing.
        const late = distinctUpload(`${hash}/late`, 777);
        expect((await put(replica, hash, strictToken, late)).status).toBe(202);
        await sleep(SETTLED_MS);
        await expectEverywhere(hash, strictToken, winner.tag);
      }),
    );
    expect(faults).toEqual(noFaults());
  });
});
