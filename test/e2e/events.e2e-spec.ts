import request from 'supertest';
import { errorBody } from '../../src/common/error-body';
import type { Team } from '../../src/teams/team.entity';
import { randomHash } from '../support/artifacts';
import { metricValue, scrapeMetrics } from '../support/metrics';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { postEvents, turboEvent } from '../support/usage';

const SKIPPED = 'teamcache_usage_events_rejected_total';
const NOT_AN_ARRAY = 'the body must be a JSON array of events';
const SESSION = '4f9c5a52-8d0e-4b8e-9e55-0d1c4f8f9a10';

/**
 * protocol.md, "Events": an array of {sessionId, source, event, hash, duration}; future clients
 * may add fields. Unknown fields are ignored and a malformed event is skipped (and counted), so
 * one odd event never costs a team the statistics of its whole batch.
 */
describe('POST /v8/artifacts/events', () => {
  let t: TestApp;
  let team: Team;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    team = await createTeam(t, 'acme');
    token = (await issueToken(t, team)).token;
  });
  afterAll(() => t.close());

  /** The stored events whose hash is one of `hashes`, in insertion order. */
  const rows = (...hashes: string[]) =>
    t.dataSource.query(
      `SELECT session_id, source, event, hash, duration_ms, client_ci FROM usage_events
       WHERE team_id = $1 AND hash = ANY($2) ORDER BY id`,
      [team.id, hashes],
    );
  const post = (body: string, contentType = 'application/json') =>
    request(t.server)
      .post('/v8/artifacts/events')
      .set(bearer(token))
      .set('Content-Type', contentType)
      .send(body);
  const skippedCount = async (reason: string) =>
    metricValue(await scrapeMetrics(t.server), SKIPPED, { reason });

  it.each(['/v8/artifacts/events', '/artifacts/events'])('stores a batch at %s', async (url) => {
    const hash = randomHash();
    const res = await request(t.server)
      .post(url)
      .set(bearer(token))
      .set('x-artifact-client-ci', 'circleci')
      .send([
        turboEvent('REMOTE', 'HIT', hash, 250, SESSION),
        turboEvent('LOCAL', 'MISS', hash.toUpperCase(), 0, SESSION),
      ])
      .expect(200);
    expect(res.body).toEqual({});
    expect(await rows(hash)).toEqual([
      {
        session_id: SESSION,
        source: 'REMOTE',
        event: 'HIT',
        hash,
        duration_ms: 250,
        client_ci: 'circleci',
      },
      {
        session_id: SESSION,
        source: 'LOCAL',
        event: 'MISS',
        hash,
        duration_ms: 0,
        client_ci: 'circleci',
      },
    ]);
  });

  it('stores events that carry fields it does not know, without those fields', async () => {
    const hash = randomHash();
    const res = await post(
      JSON.stringify([
        { ...turboEvent('REMOTE', 'HIT', hash, 40, SESSION), taskId: 'web#build', teamId: 'x' },
        { ...turboEvent('LOCAL', 'HIT', hash, 7, SESSION), futureField: { nested: [1, 2] } },
      ]),
    ).expect(200);
    expect(res.body).toEqual({});
    expect(await rows(hash)).toEqual([
      {
        session_id: SESSION,
        source: 'REMOTE',
        event: 'HIT',
        hash,
        duration_ms: 40,
        client_ci: null,
      },
      { session_id: SESSION, source: 'LOCAL', event: 'HIT', hash, duration_ms: 7, client_ci: null },
    ]);
  });

  it.each([
    ['a number', 42, 'not_an_object'],
    ['a string', 'HIT', 'not_an_object'],
    ['null', null, 'not_an_object'],
    ['an array', [SESSION], 'not_an_object'],
    ['an event without sessionId', { sessionId: undefined }, 'sessionId'],
    ['a session id with SQL', { sessionId: "';DELETE FROM x;--" }, 'sessionId'],
    ['an unknown source', { source: 'CLOUD' }, 'source'],
    ['an unknown event', { event: 'MAYBE' }, 'event'],
    ['a hash in full-width letters', { hash: 'ａｂｃ' }, 'hash'],
    ['a negative duration', { duration: -1 }, 'duration'],
    ['a fractional duration', { duration: 2.5 }, 'duration'],
    ['a duration over 2^31 - 1', { duration: 2 ** 31 }, 'duration'],
  ])('skips %s among good events, stores the rest and counts it', async (_name, bad, reason) => {
    const [good1, good2, badHash] = [randomHash(), randomHash(), randomHash()];
    const item =
      typeof bad === 'object' && bad !== null && !Array.isArray(bad)
        ? { ...turboEvent('LOCAL', 'HIT', badHash, 5, SESSION), ...bad }
        : bad;
    const before = await skippedCount(reason);
    const res = await post(
      JSON.stringify([
        turboEvent('REMOTE', 'HIT', good1, 100, SESSION),
        item,
        turboEvent('LOCAL', 'MISS', good2, 0, SESSION),
      ]),
    ).expect(200);
    expect(res.body).toEqual({});
    expect((await rows(good1, good2, badHash)).map((r: { hash: string }) => r.hash)).toEqual([
      good1,
      good2,
    ]);
    expect((await skippedCount(reason)) - before).toBe(1);
  });

  it('answers 200 to a batch of only malformed events and stores nothing', async () => {
    const hash = randomHash();
    const before = await skippedCount('source');
    const odd = { ...turboEvent('LOCAL', 'HIT', hash), source: 'NOPE' };
    const res = await post(JSON.stringify([odd, odd])).expect(200);
    expect(res.body).toEqual({});
    expect(await rows(hash)).toEqual([]);
    expect((await skippedCount('source')) - before).toBe(2);
  });

  it.each([
    ['an object', '{"events":[]}'],
    ['a string', '"HIT"'],
    ['a number', '42'],
    ['null', 'null'],
    ['empty', ''],
  ])('refuses a body that is %s with 400, saying what it must be', async (_name, body) => {
    const res = await post(body).expect(400);
    expect(res.body).toEqual(errorBody('bad_request', NOT_AN_ARRAY));
  });

  it('refuses a request without a JSON body with 400', async () => {
    const res = await request(t.server).post('/v8/artifacts/events').set(bearer(token)).expect(400);
    expect(res.body).toEqual(
      errorBody('bad_request', expect.stringContaining('Content-Type: application/json')),
    );
  });

  it('refuses invalid JSON with 400 "not valid JSON"', async () => {
    const res = await post('[{"sessionId":').expect(400);
    expect(res.body).toEqual(errorBody('bad_request', 'request body is not valid JSON'));
  });

  it('stores a batch of 1,000 events and refuses 1,001 with 400, storing none', async () => {
    const [kept, refused] = [randomHash(), randomHash()];
    await postEvents(t.server, token, Array(1_000).fill(turboEvent('LOCAL', 'HIT', kept))).expect(
      200,
    );
    expect(await rows(kept)).toHaveLength(1_000);
    const res = await postEvents(
      t.server,
      token,
      Array(1_001).fill(turboEvent('LOCAL', 'HIT', refused)),
    ).expect(400);
    expect(res.body).toEqual(errorBody('bad_request', 'at most 1000 events per request'));
    expect(await rows(refused)).toEqual([]);
  });

  it('refuses 1,001 malformed items as too many, not item by item', async () => {
    const before = await skippedCount('not_an_object');
    const res = await post(JSON.stringify(Array(1_001).fill(0))).expect(400);
    expect(res.body.message).toBe('at most 1000 events per request');
    expect((await skippedCount('not_an_object')) - before).toBe(0);
  });
});
