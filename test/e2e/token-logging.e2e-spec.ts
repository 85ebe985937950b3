import * as fs from 'node:fs';
import { makeDataDir, ServerProcess } from '../support/server-process';
import { createTestDatabase } from '../support/test-database';

/** The built server (`teamcache serve`) at the most verbose level: no secret reaches its output. */
describe('tokens never reach the logs', () => {
  jest.setTimeout(120_000);

  const JWT_SECRET = 'log-test-jwt-secret-0123456789abcdef-0123';
  const ADMIN_TOKEN = 'log-test-admin-token-0123456789abcdef-0123';

  it('logs requests carrying admin and cache tokens with the credentials redacted', async () => {
    const database = await createTestDatabase();
    const dataDir = makeDataDir();
    const server = await ServerProcess.start({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      JWT_SECRET,
      ADMIN_TOKEN,
      LOG_LEVEL: 'trace',
    });
    try {
      const call = (method: string, path: string, token: string, body?: object) =>
        fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: body && JSON.stringify(body),
        });

      expect((await call('POST', '/admin/teams', ADMIN_TOKEN, { slug: 'acme' })).status).toBe(201);
      const issued = await call('POST', '/admin/teams/acme/tokens', ADMIN_TOKEN, { name: 'ci' });
      expect(issued.status).toBe(201);
      const { token, id } = (await issued.json()) as { token: string; id: string };
      // Accepted, refused and malformed uses of the token all get logged.
      expect((await call('GET', '/v8/artifacts/status?slug=acme', token)).status).toBe(200);
      await call('GET', '/v8/artifacts/0123abcd?slug=acme', token);
      // Repeated GETs of a verified token take the fast path: logged once each, all the same.
      const put = await fetch(`${server.url}/v8/artifacts/00ff00ff?slug=acme`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: Buffer.from('artifact bytes'),
      });
      expect(put.status).toBe(202);
      const ids = ['hit-1', 'hit-2', 'hit-3', 'miss-1'];
      for (const id of ids) {
        const hash = id.startsWith('hit') ? '00ff00ff' : '00ee00ee';
        const res = await fetch(`${server.url}/v8/artifacts/${hash}?slug=acme`, {
          headers: { authorization: `Bearer ${token}`, 'x-request-id': id },
        });
        expect(res.status).toBe(id.startsWith('hit') ? 200 : 404);
        expect(res.headers.get('x-request-id')).toBe(id);
      }
      expect((await call('GET', '/v8/artifacts/status?slug=other', token)).status).toBe(403);
      expect((await call('GET', '/v8/artifacts/status', `${token}x`)).status).toBe(401);
      await call('DELETE', `/admin/tokens/${id}`, ADMIN_TOKEN);
      await call('GET', '/v8/artifacts/status', token);
      await call('GET', '/admin/teams', token);
      expect(await server.stop()).toBe(0);

      const logs = server.logs();
      const requestLines = logs.split('\n').filter((line) => line.includes('"req":'));
      expect(requestLines.length).toBeGreaterThanOrEqual(9);
      expect(logs).toContain('"authorization":"[redacted]"');
      for (const id of ids) {
        const lines = requestLines.filter((line) => line.includes(`"id":"${id}"`));
        expect(lines).toHaveLength(1);
        expect(JSON.parse(lines[0])).toMatchObject({
          level: 30,
          msg: 'request completed',
          req: { method: 'GET', headers: { authorization: '[redacted]' } },
          res: { statusCode: id.startsWith('hit') ? 200 : 404 },
        });
      }
      const secrets = [token, token.split('.')[2], ADMIN_TOKEN, JWT_SECRET];
      for (const secret of secrets) expect(logs).not.toContain(secret);
    } finally {
      if (server.child.exitCode === null) await server.stop('SIGKILL');
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
