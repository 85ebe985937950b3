import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { ageArtifact, postEvents, turboEvent } from '../support/usage';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';
const DAY_MS = 86_400_000;
const utcDate = (date: Date) => date.toISOString().slice(0, 10);

describe('GET /admin/teams/:team/stats', () => {
  let t: TestApp;
  const [hA, hB, hC, hD, hOld] = [1, 2, 3, 4, 5].map(() => randomHash());
  const ci = { 'x-artifact-client-ci': 'github-actions' };
  const ciSession = randomUUID();
  const laptopSession = randomUUID();
  const ciEventsAt = new Date(Date.now() - 60_000);
  const laptopEventsAt = new Date(Date.now() - 2 * DAY_MS);

  const stats = (team: string, query = '') =>
    request(t.server).get(`/admin/teams/${team}/stats${query}`).set(bearer(ADMIN_TOKEN));

  /** What turbo would do on a CI machine and a laptop, with durations known in advance. */
  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN, RETENTION_SWEEP_INTERVAL_MS: '0' });
    const team = await createTeam(t, 'stats');
    const { token } = await issueToken(t, team);
    const put = (hash: string, size: number, duration: number, headers = {}) =>
      putArtifact(t.server, token, hash, randomBytes(size), {
        'x-artifact-duration': String(duration),
        ...headers,
      }).expect(202);
    await put(hOld, 700, 100);
    await ageArtifact(t, team.id, hOld, 40, { uploaded: true });
    await put(hA, 1000, 1200, ci);
    await put(hB, 2000, 800);
    await put(hC, 500, 300);
    for (const hash of [hA, hA, hB]) await getArtifact(t.server, token, hash).expect(200);
    await getArtifact(t.server, token, hD).expect(404);

    await postEvents(
      t.server,
      token,
      [
        turboEvent('REMOTE', 'HIT', hA, 1200, ciSession),
        turboEvent('REMOTE', 'HIT', hA, 1200, ciSession),
        turboEvent('REMOTE', 'MISS', hD, 0, ciSession),
        turboEvent('LOCAL', 'MISS', hC, 0, ciSession),
      ],
      ci,
    ).expect(200);
    await postEvents(t.server, token, [
      turboEvent('REMOTE', 'HIT', hB, 800, laptopSession),
      turboEvent('LOCAL', 'HIT', hC, 300, laptopSession),
      turboEvent('LOCAL', 'HIT', hA, 150, laptopSession),
      turboEvent('REMOTE', 'MISS', hC, 0, laptopSession),
    ]).expect(200);
    await postEvents(t.server, token, [turboEvent('REMOTE', 'HIT', hA, 9_999)]).expect(200);
    await t.dataSource.query(
      `UPDATE usage_events SET created_at = CASE
         WHEN session_id = $1 THEN $3::timestamptz
         WHEN session_id = $2 THEN $4::timestamptz
         ELSE now() - interval '40 days' END
       WHERE team_id = $5`,
      [ciSession, laptopSession, ciEventsAt, laptopEventsAt, team.id],
    );

    // Another team's usage never shows up.
    const noise = await createTeam(t, 'noise');
    const other = await issueToken(t, noise);
    await putArtifact(t.server, other.token, hA, randomBytes(10)).expect(202);
    await postEvents(t.server, other.token, [turboEvent('REMOTE', 'HIT', hA, 5_000)]).expect(200);
  });
  afterAll(() => t.close());

  it('reports the scripted uploads, hits and misses of the last 30 days exactly', async () => {
    const res = await stats('stats').expect(200);
    const body = res.body;
    expect(body.team).toMatchObject({ slug: 'stats', name: 'stats' });
    expect(body.storage).toEqual({ artifacts: 4, bytes: 4200 });
    expect(body.uploads).toEqual({ count: 3, bytes: 3500 });
    expect(body.remote).toEqual({ hits: 3, misses: 2, hitRate: 0.6, timeSavedMs: 3200 });
    expect(body.local).toEqual({ hits: 2, misses: 1, hitRate: 0.6667 });
    expect(body.sessions).toBe(2);
    expect(body.topArtifacts).toEqual([
      { hash: hA, hits: 2, timeSavedMs: 2400, size: 1000 },
      { hash: hB, hits: 1, timeSavedMs: 800, size: 2000 },
    ]);
    const ciUsage = {
      sessions: 1,
      remoteHits: 2,
      remoteMisses: 1,
      localHits: 0,
      localMisses: 1,
      uploads: 1,
    };
    expect(body.clients).toEqual({
      ci: ciUsage,
      interactive: {
        sessions: 1,
        remoteHits: 1,
        remoteMisses: 1,
        localHits: 2,
        localMisses: 0,
        uploads: 2,
      },
      byCi: [{ name: 'github-actions', ...ciUsage }],
    });
  });

  it('gives a daily series that adds up to the totals', async () => {
    const { body } = await stats('stats').expect(200);
    const days: { date: string }[] = body.daily;
    expect(days[0].date).toBe(utcDate(new Date(Date.parse(body.period.from))));
    expect(days[days.length - 1].date).toBe(utcDate(new Date()));
    expect(new Set(days.map((d) => d.date)).size).toBe(days.length);
    const day = (date: Date) => days.find((d) => d.date === utcDate(date));
    expect(day(laptopEventsAt)).toMatchObject({
      remoteHits: 1,
      remoteMisses: 1,
      hitRate: 0.5,
      localHits: 2,
      timeSavedMs: 800,
      storedBytes: 700,
    });
    expect(day(ciEventsAt)).toMatchObject({
      remoteHits: 2,
      remoteMisses: 1,
      timeSavedMs: 2400,
      uploads: 3,
      uploadedBytes: 3500,
      storedBytes: 4200,
    });
    const sum = (key: string) =>
      days.reduce((n, d) => n + (d as unknown as Record<string, number>)[key], 0);
    expect(sum('remoteHits')).toBe(body.remote.hits);
    expect(sum('remoteMisses')).toBe(body.remote.misses);
    expect(sum('timeSavedMs')).toBe(body.remote.timeSavedMs);
    expect(sum('uploadedBytes')).toBe(body.uploads.bytes);
    const quiet = days.find(
      (d) => ![utcDate(laptopEventsAt), utcDate(ciEventsAt)].includes(d.date),
    );
    expect(quiet).toMatchObject({ remoteHits: 0, remoteMisses: 0, hitRate: null, timeSavedMs: 0 });
  });

  it('takes an explicit period (from/to as ISO dates, to inclusive)', async () => {
    const from = utcDate(new Date(Date.now() - 45 * DAY_MS));
    const to = utcDate(new Date());
    const { body } = await stats('stats', `?from=${from}&to=${to}`).expect(200);
    expect(body.period).toEqual({
      from: `${from}T00:00:00.000Z`,
      to: new Date(Date.parse(`${to}T00:00:00Z`) + DAY_MS).toISOString(),
    });
    expect(body.remote).toEqual({ hits: 4, misses: 2, hitRate: 0.6667, timeSavedMs: 13_199 });
    expect(body.uploads).toEqual({ count: 4, bytes: 4200 });
    expect(body.daily).toHaveLength(46);
    expect(body.daily[0].storedBytes).toBe(0);
  });

  it('counts nothing in a period without activity', async () => {
    const { body } = await stats('stats', '?from=2020-01-01&to=2020-01-31').expect(200);
    expect(body.remote).toEqual({ hits: 0, misses: 0, hitRate: null, timeSavedMs: 0 });
    expect(body.uploads).toEqual({ count: 0, bytes: 0 });
    expect(body.topArtifacts).toEqual([]);
    expect(body.daily).toHaveLength(31);
    // What is stored now does not depend on the period.
    expect(body.storage).toEqual({ artifacts: 4, bytes: 4200 });
  });

  it.each([
    ['?from=yesterday', /from must be an ISO date/],
    ['?to=2025-02-30', /to must be an ISO date/],
    ['?from=2025-01-01T10:00:00', /from must be an ISO date/],
    ['?from=2025-03-01&to=2025-02-01', /must be before to/],
    ['?from=2023-01-01&to=2025-01-01', /at most 366 days/],
    ['?from=2025-01-01&from=2025-01-02', /from must be an ISO date/],
  ])('answers 400 to %s', async (query, message) => {
    const res = await stats('stats', query).expect(400);
    expect(res.body).toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(message),
    });
  });

  it('answers 404 for an unknown team and 401 without the admin token', async () => {
    await stats('nobody').expect(404);
    await request(t.server).get('/admin/teams/stats/stats').expect(401);
  });
});
