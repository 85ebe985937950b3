import { HttpException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { AppException } from './app-exception';
import { isDependencyFailure } from './dependency-failure';
import { ClientRequestError } from './domain-errors';
import { errorBody } from './error-body';
import { codeForStatus, ErrorCode } from './error-codes';

/** How an error is answered: status, stable code, message, and headers it needs. */
export interface ErrorAnswer {
  status: number;
  code: ErrorCode | string;
  message: string;
  headers: Record<string, string>;
}

/**
 * What any error becomes on the wire, for every frontend (the Nest filter and the artifact fast
 * path): AppExceptions and ClientRequestErrors name their own answer, dependency outages are 503
 * `unavailable`, anything else 500 `internal_error` without details (never a stack trace).
 */
export function describeError(
  exception: unknown,
  request: { method?: string; path?: string },
): ErrorAnswer {
  if (exception instanceof AppException) {
    return {
      status: exception.getStatus(),
      code: exception.code,
      message: exception.message,
      headers: exception.headers,
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = codeForStatus(status);
    if (status === 404 && exception.message.startsWith('Cannot ')) {
      return {
        status,
        code,
        message: `no route for ${request.method} ${request.path}`,
        headers: {},
      };
    }
    return { status, code, message: messageOf(exception), headers: {} };
  }
  if (exception instanceof ClientRequestError) {
    return {
      status: exception.status,
      code: exception.code,
      message: exception.message,
      headers: {},
    };
  }
  const bodyParserStatus = (exception as { status?: number; type?: string })?.status;
  if (typeof bodyParserStatus === 'number' && bodyParserStatus >= 400 && bodyParserStatus < 500) {
    const message =
      bodyParserStatus === 413 ? 'request body is too large' : 'request body is not valid JSON';
    return {
      status: bodyParserStatus,
      code: codeForStatus(bodyParserStatus),
      message,
      headers: {},
    };
  }
  if (isDependencyFailure(exception)) {
    return {
      status: 503,
      code: ErrorCode.Unavailable,
      message: 'a dependency is unavailable, try again later',
      headers: {},
    };
  }
  return { status: 500, code: ErrorCode.Internal, message: 'internal server error', headers: {} };
}

/**
 * Writes an error answer in the error shape ({code, message, error: {code, message}}). A body
 * the server did not read (an early 4xx on an upload) is not drained: the connection closes.
 */
export function writeError(res: ServerResponse, answer: ErrorAnswer, bodyRead: boolean): void {
  const body = JSON.stringify(errorBody(answer.code, answer.message));
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  if (!bodyRead) res.setHeader('Connection', 'close');
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  if (typeof message === 'string') return message;
  return exception.message;
}
