import type { IncomingMessage, RequestListener } from 'node:http';
import { AppException } from '../common/app-exception';
import { describeError, writeError } from '../common/error-response';

/**
 * Which routes a listener serves. `all`: one listener for everything (ADMIN_PORT unset).
 * With ADMIN_PORT, `public` (PORT) serves all but the admin surface, and `admin` serves only the
 * admin surface (and /healthz, so the listener itself can be probed).
 */
export type ListenerScope = 'all' | 'public' | 'admin';

const ADMIN_SURFACE = /^\/admin(\/|$)/;
const ARRIVED_ON_ADMIN = Symbol('teamcache.arrivedOnAdminListener');

/**
 * Whether a request target belongs to the admin API or UI (`/admin` and below) the way Express
 * would route it: case-insensitively, with repeated slashes collapsed (app.factory collapses
 * them) and percent-escapes decoded, so `//ADMIN/%74eams` is admin too.
 */
export function isAdminPath(url: string): boolean {
  const queryAt = url.indexOf('?');
  let path = queryAt === -1 ? url : url.slice(0, queryAt);
  try {
    path = decodeURIComponent(path);
  } catch {
    // An undecodable path keeps its escapes; Express answers it 400 or 404 either way.
  }
  return ADMIN_SURFACE.test(path.replace(/\/{2,}/g, '/').toLowerCase());
}

/** True when the request came in on the ADMIN_PORT listener (checked again by the admin guards). */
export function arrivedOnAdminListener(req: IncomingMessage): boolean {
  return (req as IncomingMessage & { [ARRIVED_ON_ADMIN]?: true })[ARRIVED_ON_ADMIN] === true;
}

function inScope(scope: ListenerScope, url: string): boolean {
  if (scope === 'all') return true;
  const admin = isAdminPath(url);
  if (scope === 'public') return !admin;
  return admin || url === '/healthz';
}

/**
 * `next` limited to the routes of `scope`: anything else answers 404 `not_found` in the error
 * shape, exactly like a route that does not exist, before any token is looked at.
 */
export function scopedTo(scope: ListenerScope, next: RequestListener): RequestListener {
  return (req, res) => {
    if (scope === 'admin') {
      (req as IncomingMessage & { [ARRIVED_ON_ADMIN]?: true })[ARRIVED_ON_ADMIN] = true;
    }
    if (inScope(scope, req.url ?? '/')) return next(req, res);
    const path = (req.url ?? '/').split('?')[0];
    const refusal = AppException.notFound(`no route for ${req.method} ${path}`);
    writeError(res, describeError(refusal, { method: req.method, path }), false);
  };
}
