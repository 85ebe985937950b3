import { Injectable } from '@nestjs/common';
import { Logger, type Params, PinoLogger } from 'nestjs-pino';
import { nestLoggerParams } from './request-log';
import type { LogSettings } from './root-logger';

/**
 * Nest's own start-up chatter (a line per module and per route, "starting", "started"): useful
 * when debugging the wiring, noise on every start. Their `log` calls are written at debug.
 * ExceptionHandler repeats a start-up failure that `teamcache serve` reports itself.
 */
const FRAMEWORK_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'ExceptionHandler',
]);

/** The context Nest passes last to every logger call (`logger.log(message, context)`). */
function contextOf(params: unknown[]): unknown {
  return params[params.length - 1];
}

/**
 * nestjs-pino's Logger (lines bound to the current request carry its id) with Nest's framework
 * chatter moved to debug. `AppLogger.forStartup` builds one before the app exists, for
 * `NestFactory.create`, so that even a failure while modules initialise is a log line of the
 * same shape rather than Nest's coloured console output.
 */
@Injectable()
export class AppLogger extends Logger {
  static forStartup(settings: LogSettings): AppLogger {
    const params: Params = nestLoggerParams(settings);
    return new AppLogger(new PinoLogger(params), params);
  }

  log(message: unknown, ...params: unknown[]): void {
    if (FRAMEWORK_CONTEXTS.has(contextOf(params) as string)) super.debug(message, ...params);
    else super.log(message, ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    if (FRAMEWORK_CONTEXTS.has(contextOf(params) as string)) super.debug(message, ...params);
    else super.error(message, ...params);
  }
}
