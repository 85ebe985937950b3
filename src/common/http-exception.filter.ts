import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeError, writeError } from './error-response';

/** Renders every error of the Nest routes with describeError/writeError (error-response.ts). */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const request = http.getRequest<Request>();
    if (request.socket?.destroyed) {
      // The client vanished mid-request (its upload or download fails as a consequence): there
      // is no one to answer, and it is neither an outage nor our bug, so it is no error either.
      this.logger.debug(`client disconnected from ${request.method} ${request.originalUrl}`);
      return;
    }
    const answer = describeError(exception, request);
    if (answer.status >= 500) {
      this.logger.error(
        { err: exception, url: request.originalUrl, status: answer.status },
        answer.message,
      );
    }
    if (response.headersSent) {
      // A download already under way cannot change its status: abort it so the client sees a
      // truncated transfer rather than a short body it could mistake for a whole artifact.
      response.destroy();
      return;
    }
    writeError(response, answer, request.complete);
  }
}
