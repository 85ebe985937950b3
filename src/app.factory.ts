import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RequestListener, Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, NextFunction, Request, Response, urlencoded } from 'express';
import { AppModule, AppModuleOptions } from './app.module';
import type { AppConfig } from './config/app-config';
import { ArtifactFastPath } from './artifacts/artifact-fast-path';
import { AppException } from './common/app-exception';
import { guardJsonBody } from './common/json-guard';
import { applyServerLimits } from './common/server-limits';
import { AdminListener } from './http/admin-listener';
import { scopedTo } from './http/listener-scope';
import { RequestEnvelope } from './http/request-envelope';
import { AppLogger } from './logging/app-logger';
import { NxCacheFrontend } from './nx/nx-cache.frontend';
import { setupOpenApi } from './openapi/openapi';

/** JSON bodies (queries, events, admin) are small; artifact bodies are never parsed. */
const JSON_LIMIT = '1mb';

/** Builds the configured HTTP application; used by `teamcache serve` and by the e2e tests. */
export async function createApp(options: AppModuleOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    // Not buffered: a module that fails to initialise is reported in the same JSON lines.
    logger: AppLogger.forStartup(options.config),
    // A failing dependency at start must reject (a clean exit with a message), not abort().
    abortOnError: false,
  });
  app.useLogger(app.get(AppLogger));
  app.disable('x-powered-by');
  // Whose X-Forwarded-For names the client (rate limits per IP behind a load balancer).
  app.set('trust proxy', options.config.trustProxy);
  applyServerLimits(app.getHttpServer() as Server, options.config.limits);
  app.use(collapseSlashes);
  // Not strict: a body of `null`, a string or a number is valid JSON and reaches the route,
  // which says what it expects (strict mode calls it invalid JSON).
  const parseJson = json({ limit: JSON_LIMIT, verify: guardJsonBody, strict: false });
  app.use((req: Request, res: Response, next: NextFunction) =>
    req.method === 'PUT' ? next() : parseJson(req, res, (err?: unknown) => next(jsonError(err))),
  );
  // The OIDC exchange takes the RFC 8693 form (application/x-www-form-urlencoded) too.
  app.use('/oidc', urlencoded({ extended: false, limit: '64kb', parameterLimit: 20 }));
  setupOpenApi(app);
  putFastPathInFront(app, options.config);
  return app;
}

/**
 * Every request enters RequestEnvelope (id, log line, CORS, HTTP metrics), then the listener's
 * scope (with ADMIN_PORT, the public listener has no admin routes), then the Nx cache API
 * (NxCacheFrontend), then artifact GETs and HEADs skip the Nest pipeline when they can
 * (ArtifactFastPath). The admin listener, started by
 * `listen`, gets the same chain scoped to the admin routes.
 */
function putFastPathInFront(app: INestApplication, config: AppConfig): void {
  const server = app.getHttpServer() as Server;
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) {
    throw new Error(
      `expected the Nest app as the only request listener, found ${listeners.length}`,
    );
  }
  server.removeAllListeners('request');
  const envelope = app.get(RequestEnvelope);
  const inner = app.get(NxCacheFrontend).wrap(app.get(ArtifactFastPath).wrap(listeners[0]));
  const handler = envelope.wrap(scopedTo(config.admin ? 'public' : 'all', inner));
  server.on('request', handler);
  // Node would answer `Expect: 100-continue` with 100 at once; the upload route invites the
  // body itself once its checks pass (detachedBody), and every refusal comes before it.
  server.on('checkContinue', handler);
  adminHandlers.set(app, envelope.wrap(scopedTo('admin', inner)));
}

const adminHandlers = new WeakMap<INestApplication, RequestListener>();

/** Where a started app answers: its public URL and, with ADMIN_PORT, its admin URL. */
export interface Listening {
  /** The cache API, health and metrics (and the admin routes without ADMIN_PORT). */
  url: string;
  /** The admin API and UI of ADMIN_PORT; undefined when they share `url`. */
  adminUrl?: string;
}

/**
 * Starts the app's listeners: PORT on HOST, and ADMIN_PORT on ADMIN_HOST when set. Rejects when
 * either cannot be bound. URLs name `localhost` for a wildcard host, as a browser would use it.
 */
export async function listen(app: INestApplication, config: AppConfig): Promise<Listening> {
  await app.listen(config.port, config.host);
  const url = `http://${hostForUrl(config.host)}:${config.port}`;
  if (!config.admin) return { url };
  const port = await app
    .get(AdminListener)
    .listen(adminHandlers.get(app)!, config.limits, config.admin);
  return { url, adminUrl: `http://${hostForUrl(config.admin.host)}:${port}` };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Nest turns body-parser's SyntaxError into a 400 carrying JSON.parse's message (which quotes
 * the body) before the error filter sees it; name it plainly instead.
 */
function jsonError(err: unknown): unknown {
  return err instanceof SyntaxError
    ? AppException.badRequest('request body is not valid JSON')
    : err;
}

/** turbo builds URLs by concatenation: TURBO_API with a trailing slash yields `//v8/...`. */
function collapseSlashes(req: Request, _res: Response, next: NextFunction) {
  const queryAt = req.url.indexOf('?');
  const pathPart = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
  if (pathPart.includes('//')) {
    req.url = pathPart.replace(/\/{2,}/g, '/') + (queryAt === -1 ? '' : req.url.slice(queryAt));
  }
  next();
}
