import { HttpException, HttpStatus } from '@nestjs/common';
import { ErrorCode } from './error-codes';

/** An HTTP error with a stable code; the global filter renders it as {code, message, error}. */
export class AppException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: ErrorCode,
    message: string,
    /** Headers the answer carries (e.g. Retry-After on a 429), set by the error renderer. */
    readonly headers: Record<string, string> = {},
  ) {
    super({ code, message }, status);
  }

  static badRequest(message: string) {
    return new AppException(HttpStatus.BAD_REQUEST, ErrorCode.BadRequest, message);
  }
  static unauthorized(message = 'missing or invalid token') {
    return new AppException(HttpStatus.UNAUTHORIZED, ErrorCode.Unauthorized, message);
  }
  static forbidden(message: string, code: ErrorCode = ErrorCode.Forbidden) {
    return new AppException(HttpStatus.FORBIDDEN, code, message);
  }
  static notFound(message: string) {
    return new AppException(HttpStatus.NOT_FOUND, ErrorCode.NotFound, message);
  }
  static conflict(message: string) {
    return new AppException(HttpStatus.CONFLICT, ErrorCode.Conflict, message);
  }
  static unavailable(message: string) {
    return new AppException(HttpStatus.SERVICE_UNAVAILABLE, ErrorCode.Unavailable, message);
  }
}
