/** The stable error codes of every error body; the turbo CLI acts on some of them (protocol.md). */
export enum ErrorCode {
  BadRequest = 'bad_request',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  LengthRequired = 'length_required',
  PayloadTooLarge = 'payload_too_large',
  RequestTimeout = 'request_timeout',
  HeadersTooLarge = 'request_header_fields_too_large',
  TooManyRequests = 'too_many_requests',
  RemoteCachingPaused = 'remote_caching_paused',
  RemoteCachingOverLimit = 'remote_caching_over_limit',
  RemoteCachingDisabled = 'remote_caching_disabled',
  /** RFC 6749 5.2 / RFC 8693: the CI token was refused (POST /oidc/token). */
  InvalidGrant = 'invalid_grant',
  /** RFC 6749 5.2: a grant_type other than token exchange (POST /oidc/token). */
  UnsupportedGrantType = 'unsupported_grant_type',
  Internal = 'internal_error',
  Unavailable = 'unavailable',
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.BadRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  405: ErrorCode.NotFound,
  408: ErrorCode.RequestTimeout,
  409: ErrorCode.Conflict,
  411: ErrorCode.LengthRequired,
  413: ErrorCode.PayloadTooLarge,
  431: ErrorCode.HeadersTooLarge,
  429: ErrorCode.TooManyRequests,
  503: ErrorCode.Unavailable,
};

export function codeForStatus(status: number): ErrorCode {
  return CODE_BY_STATUS[status] ?? (status >= 500 ? ErrorCode.Internal : ErrorCode.BadRequest);
}
