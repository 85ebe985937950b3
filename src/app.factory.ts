import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { RequestListener, Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule, AppModuleOptions } from './app.module';
import { ArtifactFastPath } from './artifacts/artifact-fast-path';
import { AppException } from './common/app-exception';
import { guardJsonBody } from './common/json-guard';
import { applyServerLimits } from './common/server-limits';
import { RequestEnvelope } from './http/request-envelope';
import { setupOpenApi } from './openapi/openapi';

/** JSON bodies (queries, events, admin) are small; artifact bodies are never parsed. */
const JSON_LIMIT = '1mb';

/** Builds the configured HTTP application; used by `teamcache serve` and by the e2e tests. */
export async function createApp(options: AppModuleOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    bufferLogs: true,
    // A failing dependency at start must reject (a clean exit with a message), not abort().
    abortOnError: false,
  });
  app.useLogger(app.get(Logger));
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
  setupOpenApi(app);
  putFastPathInFront(app);
  return app;
}

/**
 * Every request enters RequestEnvelope (id, log line, CORS, HTTP metrics), then artifact GETs and
 * HEADs skip the Nest pipeline when they can (ArtifactFastPath).
 */
function putFastPathInFront(app: INestApplication): void {
  const server = app.getHttpServer() as Server;
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) {
    throw new Error(
      `expected the Nest app as the only request listener, found ${listeners.length}`,
    );
  }
  server.removeAllListeners('request');
  const handler = app.get(RequestEnvelope).wrap(app.get(ArtifactFastPath).wrap(listeners[0]));
  server.on('request', handler);
  // Node would answer `Expect: 100-continue` with 100 at once; the upload route invites the
  // body itself once its checks pass (detachedBody), and every refusal comes before it.
  server.on('checkContinue', handler);
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
