import request from 'supertest';
import { getArtifact, randomHash } from '../support/artifacts';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp, TestApp } from '../support/test-app';

/**
 * POST /oidc/revoke answers 200 whatever the token (RFC 7009 2.2), so it tells a guesser
 * nothing, and a CI revoke step that runs twice must not get its runner blocked: revocations of
 * tokens that are not (or no longer) valid do not count as failed logins. Failed cache logins
 * still do.
 */
describe('POST /oidc/revoke and the failed-login limit', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp({ RATE_LIMIT_AUTH_FAILURES: '2' })));
  afterAll(() => t.close());

  it('does not count revocations of invalid tokens as failed logins', async () => {
    const team = await createTeam(t, 'acme');
    const issued = await issueToken(t, team);
    for (let i = 0; i < 5; i++) {
      await request(t.server)
        .post('/oidc/revoke')
        .type('form')
        .send({ token: `nope-${i}` })
        .expect(200);
    }
    await request(t.server)
      .post('/oidc/revoke')
      .type('form')
      .send({ token: issued.token })
      .expect(200);
    // The same revoke step run again (the token is revoked now): still 200, still not counted.
    await request(t.server)
      .post('/oidc/revoke')
      .type('form')
      .send({ token: issued.token })
      .expect(200);
    const other = await issueToken(t, team);
    await getArtifact(t.server, other.token, randomHash()).expect(404);
  });

  it('still blocks a client after failed cache logins over the limit', async () => {
    for (let i = 0; i < 3; i++) await getArtifact(t.server, `bad-${i}`, randomHash());
    const res = await getArtifact(t.server, 'bad-again', randomHash());
    expect(res.status).toBe(429);
  });
});
