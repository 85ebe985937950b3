import { ErrorCode } from './error-codes';

export interface ErrorBody {
  code: ErrorCode | string;
  message: string;
  error: { code: ErrorCode | string; message: string };
}

/** The spec's flat {code, message} and the turbo CLI's wrapped {error: {...}} at once. */
export function errorBody(code: ErrorCode | string, message: string): ErrorBody {
  return { code, message, error: { code, message } };
}
