import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { getArtifact, putArtifact, randomHash } from '../support/artifacts';
import { bearer, createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';
import { blobExists, storedHashes, sweep } from '../support/usage';
import { sleep } from '../support/wait';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef-0123456789';

describe('QUOTA_MODE=reject (a hard quota)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      ADMIN_TOKEN,
      QUOTA_MODE: 'reject',
      TEAM_QUOTA_BYTES: '1000',
      RETENTION_SWEEP_INTERVAL_MS: '0',
    });
  });
  afterAll(() => t.close());

  const status = (token: string) =>
    request(t.server).get('/v8/artifacts/status').set(bearer(token)).expect(200);

  it('refuses an upload that would go over the quota with 403 remote_caching_over_limit', async () => {
    const team = await createTeam(t, 'hard-limit');
    const { token } = await issueToken(t, team);
    const first = randomHash();
    await putArtifact(t.server, token, first, randomBytes(600)).expect(202);
    expect((await status(token)).body).toEqual({ status: 'enabled' });

    const refused = randomHash();
    const res = await putArtifact(t.server, token, refused, randomBytes(500));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      code: 'remote_caching_over_limit',
      message: expect.stringContaining('quota'),
      error: { code: 'remote_caching_over_limit', message: res.body.message },
    });
    expect(await storedHashes(t, team.id)).toEqual([first]);
    expect(await blobExists(t, team.id, refused)).toBe(false);
    await getArtifact(t.server, token, refused).expect(404);

    // Exactly at the quota is allowed; from then on the team is over_limit.
    const last = randomHash();
    await putArtifact(t.server, token, last, randomBytes(400)).expect(202);
    expect((await status(token)).body).toEqual({ status: 'over_limit' });
    await putArtifact(t.server, token, randomHash(), randomBytes(1)).expect(403);

    // Replacing a stored artifact counts only the difference; reads go on.
    await putArtifact(t.server, token, last, randomBytes(400)).expect(202);
    await getArtifact(t.server, token, first).expect(200);
  });

  it('lets a team without quota (set-policy none) upload, and reports it enabled', async () => {
    const team = await createTeam(t, 'unlimited');
    const { token } = await issueToken(t, team);
    await request(t.server)
      .patch('/admin/teams/unlimited/policy')
      .set(bearer(ADMIN_TOKEN))
      .send({ quota: 'none' })
      .expect(200);
    await putArtifact(t.server, token, randomHash(), randomBytes(1500)).expect(202);
    expect((await status(token)).body).toEqual({ status: 'enabled' });
  });

  it('lifts the block when the quota is raised', async () => {
    const team = await createTeam(t, 'raised');
    const { token } = await issueToken(t, team);
    await putArtifact(t.server, token, randomHash(), randomBytes(1000)).expect(202);
    expect((await status(token)).body).toEqual({ status: 'over_limit' });
    const policy = await request(t.server)
      .patch('/admin/teams/raised/policy')
      .set(bearer(ADMIN_TOKEN))
      .send({ quota: '2KiB' })
      .expect(200);
    expect(policy.body).toMatchObject({
      quotaBytes: 2048,
      quotaSource: 'team',
      quotaMode: 'reject',
      storedBytes: 1000,
    });
    expect((await status(token)).body).toEqual({ status: 'enabled' });
    await putArtifact(t.server, token, randomHash(), randomBytes(1000)).expect(202);
  });

  it('never evicts: the sweeper leaves a full team as it is', async () => {
    const team = await createTeam(t, 'full');
    const { token } = await issueToken(t, team);
    const hash = randomHash();
    await putArtifact(t.server, token, hash, randomBytes(1000)).expect(202);
    const report = await sweep(t);
    expect(report.evicted.artifacts).toBe(0);
    expect(await storedHashes(t, team.id)).toEqual([hash]);
  });

  it('still reports paused for a paused team', async () => {
    const team = await createTeam(t, 'paused-full');
    const { token } = await issueToken(t, team);
    await putArtifact(t.server, token, randomHash(), randomBytes(1000)).expect(202);
    await request(t.server)
      .post('/admin/teams/paused-full/pause')
      .set(bearer(ADMIN_TOKEN))
      .expect(200);
    // The auth layer caches the team for up to 3 s.
    await sleep(3_100);
    expect((await status(token)).body).toEqual({ status: 'paused' });
  });
});
