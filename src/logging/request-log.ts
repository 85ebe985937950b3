import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { Options } from 'pino-http';
import { type LogSettings, rootLogger } from './root-logger';

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Takes a sane incoming x-request-id, else makes one, and returns it on the response. Asked
 * again for the same request (the envelope's log, then Nest's request-bound logger), it gives
 * the same id.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = res.getHeader('x-request-id');
  if (typeof given === 'string') return given;
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/**
 * The request log: one line per answered request (pino-http), written by RequestEnvelope for
 * every frontend; this module's own pino-http only binds the request's logger for Nest code.
 */
export function requestLogOptions(settings: LogSettings): Options {
  return {
    logger: rootLogger(settings),
    genReqId: requestId,
    // A 404 is a cache miss, ordinary traffic: only other 4xx deserve a warning.
    customLogLevel: (_req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      return res.statusCode >= 400 && res.statusCode !== 404 ? 'warn' : 'info';
    },
    // Probes and scrapes arrive every few seconds and say nothing a metric does not.
    autoLogging: {
      ignore: (req) => req.url === '/healthz' || req.url === '/metrics',
    },
  };
}

/** nestjs-pino's settings: the root logger, bound to each request (its id on every line). */
export function nestLoggerParams(settings: LogSettings): Params {
  // The line per request comes from RequestEnvelope; here only the request-bound logger.
  return { pinoHttp: { ...requestLogOptions(settings), autoLogging: false } };
}
