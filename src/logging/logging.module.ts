import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppLogger } from './app-logger';
import { nestLoggerParams } from './request-log';
import type { LogSettings } from './root-logger';

/**
 * Structured logs (pino): JSON lines, or readable ones on a terminal; one line per request with
 * its request id. Provides AppLogger, the logger Nest and every `new Logger(context)` write to.
 */
@Module({})
export class LoggingModule {
  static forRoot(settings: LogSettings): DynamicModule {
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot(nestLoggerParams(settings))],
      providers: [AppLogger],
      exports: [AppLogger],
    };
  }
}
