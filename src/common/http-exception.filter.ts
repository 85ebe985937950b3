import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException } from './app-exception';
import { ClientRequestError } from './domain-errors';
import { isDependencyFailure } from './dependency-failure';
import { errorBody } from './error-body';
import { codeForStatus, ErrorCode } from './error-codes';

/** Renders every error as {code, message, error: {code, message}}; never leaks a stack trace. */
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
    const { status, code, message } = this.describe(exception, request);
    if (status >= 500) {
      this.logger.error({ err: exception, url: request.originalUrl, status }, message);
    }
    if (response.headersSent) {
      // A download already under way cannot change its status: abort it so the client sees a
      // truncated transfer rather than a short body it could mistake for a whole artifact.
      response.destroy();
      return;
    }
    // A body we did not read (an early 4xx on an upload) must not be drained: close instead.
    if (!request.complete) response.setHeader('Connection', 'close');
    response.status(status).json(errorBody(code, message));
  }

  private describe(exception: unknown, request: Request) {
    if (exception instanceof AppException) {
      return { status: exception.getStatus(), code: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = codeForStatus(status);
      if (status === 404 && exception.message.startsWith('Cannot ')) {
        return { status, code, message: `no route for ${request.method} ${request.path}` };
      }
      return { status, code, message: messageOf(exception) };
    }
    if (exception instanceof ClientRequestError) {
      return { status: exception.status, code: exception.code, message: exception.message };
    }
    const bodyParserStatus = (exception as { status?: number; type?: string })?.status;
    if (typeof bodyParserStatus === 'number' && bodyParserStatus >= 400 && bodyParserStatus < 500) {
      const message =
        bodyParserStatus === 413 ? 'request body is too large' : 'request body is not valid JSON';
      return { status: bodyParserStatus, code: codeForStatus(bodyParserStatus), message };
    }
    if (isDependencyFailure(exception)) {
      return {
        status: 503,
        code: ErrorCode.Unavailable,
        message: 'a dependency is unavailable, try again later',
      };
    }
    return { status: 500, code: ErrorCode.Internal, message: 'internal server error' };
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}
