import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Options } from 'pino-http';
import type { AppConfig } from '../config/app-config';

const INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Never let a credential reach a log line, whatever the level. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

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
export function requestLogOptions(config: Pick<AppConfig, 'logLevel'>): Options {
  return {
    level: config.logLevel,
    genReqId: requestId,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
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

/** Structured JSON logs (pino), one line per request with its request id. */
@Module({})
export class LoggingModule {
  static forRoot(config: Pick<AppConfig, 'logLevel'>): DynamicModule {
    return {
      module: LoggingModule,
      // The line per request comes from RequestEnvelope; here only the request-bound logger.
      imports: [
        LoggerModule.forRoot({ pinoHttp: { ...requestLogOptions(config), autoLogging: false } }),
      ],
    };
  }
}
