import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { AppConfig } from '../config/app-config';

/** Never let a credential reach a log line, whatever the level. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

export type LogSettings = Partial<Pick<AppConfig, 'logLevel' | 'logFormat'>>;

/**
 * Whether lines are written for a person: LOG_FORMAT when set, else pretty exactly when stdout
 * is a terminal (a container's or CI's stdout is not, so collectors always get JSON).
 */
export function prettyLogs(settings: LogSettings, stdout: { isTTY?: boolean } = process.stdout) {
  return settings.logFormat ? settings.logFormat === 'pretty' : stdout.isTTY === true;
}

const loggers = new Map<string, Logger>();

/**
 * The process's pino logger for these settings (one per level and format, shared by the start-up
 * lines, Nest's logger and the request log, so every line has one shape and one order): JSON
 * lines on stdout, or pino-pretty's coloured lines (synchronous, so nothing is lost at exit).
 */
export function rootLogger(settings: LogSettings = {}): Logger {
  const level = settings.logLevel ?? 'info';
  const isPretty = prettyLogs(settings);
  const key = `${level}:${isPretty}`;
  let logger = loggers.get(key);
  if (!logger) {
    const destination: DestinationStream = isPretty
      ? pretty({
          sync: true,
          translateTime: 'SYS:HH:MM:ss.l',
          // The start-up report's fields repeat what its message says.
          ignore: 'pid,hostname,context,url,adminUrl,adminUi,storage',
          messageFormat: '{if context}[{context}] {end}{msg}',
        })
      : pino.destination({ dest: 1, sync: true });
    logger = pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
    loggers.set(key, logger);
  }
  return logger;
}
