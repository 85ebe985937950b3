import { ErrorCode } from './error-codes';

/**
 * An error a lower layer raises about the client's request (e.g. a body of the wrong length),
 * answered by the HTTP layer with its own status and code: the layer that knows the rule names
 * the answer, and the error filter needs no knowledge of that layer.
 */
export abstract class ClientRequestError extends Error {
  abstract readonly status: number;
  abstract readonly code: ErrorCode;
}

/** A dependency (storage, the database) cannot serve right now: answered 503 `unavailable`. */
export class DependencyUnavailableError extends Error {}
