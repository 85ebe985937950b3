import { HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { AppException } from '../common/app-exception';
import { ErrorCode } from '../common/error-codes';

/**
 * A 429 in the error shape with Retry-After (seconds, at least 1); turbo retries once after it.
 * The header goes on the response now: the error filter keeps headers already set.
 */
export function tooManyRequests(
  response: Response,
  retryAfterSeconds: number,
  message: string,
): AppException {
  response.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return new AppException(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.TooManyRequests, message);
}

/** The same 429 without a response at hand: the error renderer sets its Retry-After header. */
export function rateLimited(retryAfterSeconds: number, message: string): AppException {
  return new AppException(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.TooManyRequests, message, {
    'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
}
