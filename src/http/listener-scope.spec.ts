import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { arrivedOnAdminListener, isAdminPath, scopedTo } from './listener-scope';

describe('isAdminPath', () => {
  it.each([
    '/admin',
    '/admin/',
    '/admin/teams',
    '/admin/ui',
    '/admin/teams?x=1',
    '//admin/teams',
    '/ADMIN/teams',
    '/Admin/UI',
    '/%61dmin/teams',
  ])('%s is admin', (url) => {
    expect(isAdminPath(url)).toBe(true);
  });

  it.each(['/', '/administrator', '/v8/artifacts/admin', '/healthz', '/metrics', '/docs', '/%E0'])(
    '%s is not admin',
    (url) => {
      expect(isAdminPath(url)).toBe(false);
    },
  );
});

/** A request through `scopedTo(scope)`: whether it reached the app, else the answer written. */
function through(scope: 'all' | 'public' | 'admin', url: string) {
  const reached: IncomingMessage[] = [];
  const next: RequestListener = (req) => void reached.push(req);
  const written: { status?: number; body?: string } = {};
  const res = {
    setHeader: () => undefined,
    writeHead: (status: number) => (written.status = status),
    end: (body: string) => (written.body = body),
  } as unknown as ServerResponse;
  const req = { method: 'GET', url, headers: {} } as IncomingMessage;
  scopedTo(scope, next)(req, res);
  return { reached: reached.length === 1, admin: arrivedOnAdminListener(req), ...written };
}

describe('scopedTo', () => {
  it('lets everything through on the single listener (no ADMIN_PORT)', () => {
    expect(through('all', '/admin/teams')).toMatchObject({ reached: true, admin: false });
    expect(through('all', '/v8/artifacts/abc')).toMatchObject({ reached: true });
  });

  it('answers 404 not_found for admin routes on the public listener', () => {
    const answer = through('public', '//ADMIN/teams');
    expect(answer.reached).toBe(false);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body!)).toMatchObject({
      code: 'not_found',
      message: 'no route for GET //ADMIN/teams',
    });
    expect(through('public', '/v8/artifacts/abc').reached).toBe(true);
  });

  it('serves only the admin routes and /healthz on the admin listener, marking them', () => {
    expect(through('admin', '/admin/teams')).toMatchObject({ reached: true, admin: true });
    expect(through('admin', '/healthz')).toMatchObject({ reached: true });
    expect(through('admin', '/v8/artifacts/abc')).toMatchObject({ reached: false, status: 404 });
    expect(through('admin', '/metrics')).toMatchObject({ reached: false, status: 404 });
  });
});
