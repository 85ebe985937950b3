import { QueryFailedError } from 'typeorm';
import { DependencyUnavailableError } from './domain-errors';

/** Socket errors that mean "a dependency is down", answered 503 rather than 500. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

// pg's own messages for a connection that died, also between the statements of a transaction
// (the upload commit runs several).
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)|terminating connection|Query read timeout|is not queryable/i;

/**
 * TypeORM's word for a statement on a connection it already gave up: the connection died
 * between the statements of a transaction (the upload commit runs several).
 */
const RELEASED_CONNECTION_ERRORS = new Set([
  'QueryRunnerProviderAlreadyReleasedError',
  'QueryRunnerAlreadyReleasedError',
]);

/** SQLSTATE classes 08 (connection), 57P0x (shutdown, cannot connect now), 53300 (too many). */
function isUnavailableSqlState(code: unknown): boolean {
  return typeof code === 'string' && (/^08|^57P0/.test(code) || code === '53300');
}

/**
 * True when an error means PostgreSQL or the blob storage cannot serve right now. Duck-typed on
 * purpose: errors raised by Node's own modules (net, pg's sockets) are not `instanceof Error`
 * of another realm (jest's), and an AggregateError carries its causes in `errors`.
 */
export function isDependencyFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  if (error instanceof DependencyUnavailableError) return true;
  const { code, message, errors, driverError } = error as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
    driverError?: { code?: unknown };
  };
  if (RELEASED_CONNECTION_ERRORS.has((error as { name?: unknown }).name as string)) return true;
  if (error instanceof QueryFailedError) {
    // A query that failed on its own merits (a constraint, bad SQL) is a bug, not an outage.
    // The connection itself broke under the query (its driver error is a socket errno).
    return (
      isUnavailableSqlState(driverError?.code) ||
      (typeof driverError?.code === 'string' && UNAVAILABLE_ERRNOS.has(driverError.code)) ||
      UNAVAILABLE_MESSAGES.test(String(message))
    );
  }
  if (typeof code === 'string' && UNAVAILABLE_ERRNOS.has(code)) return true;
  if (Array.isArray(errors) && errors.some(isDependencyFailure)) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}
