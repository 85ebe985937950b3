import { describeError } from '../common/error-response';

/** The two requests Nx's self-hosted cache client sends. */
export type NxMethod = 'GET' | 'PUT';

/** Why a request did not get the plain answer, for the metric and the log line. */
export type NxRefusal = 'outage' | 'unauthorized' | 'forbidden' | 'exists' | 'invalid' | 'error';

/** What the Nx client receives for a failed request: a status and a text/plain message. */
export interface NxAnswer {
  status: number;
  message: string;
  reason: NxRefusal;
}

/**
 * The answer Nx gets for an error, by what the Nx client (nx 20.8 to 24) does with each status:
 * a GET other than 200/404 stops the user's whole run, a PUT answered 403 or 409 is skipped
 * silently, any other PUT failure is retried (see below) and then fails the task. So:
 * - 401 stays 401 (a wrong token should stop the run, with Nx's "Unauthorized" message);
 * - a refusal of the team or token (403: paused team, read-only token, quota in reject mode)
 *   and a blocked client (429) become a miss on GET (404) and a skip on PUT (403);
 * - a dependency outage (503, or NX_TIMEOUT_MS passed) does the same under NX_ON_OUTAGE=miss,
 *   and stays 503 under `fail`;
 * - 409 (the entry exists; Nx entries are immutable) stays 409;
 * - what this server cannot take from the client (400: a hash outside the built-in hasher's
 *   1 to 20 digits, e.g. from a custom hasher; 411; 413: over MAX_ARTIFACT_SIZE) is a miss on
 *   GET and a skip on PUT too: the task runs or keeps its output locally, the run goes on;
 * - a bug stays 500.
 * (PUT retries: 6 attempts, 15·b^n ms apart with b random in [2, 4): 0.9 to 20.5 s in all, per
 * nx's tasks-runner/cache.js tryAndRetry.)
 */
export function nxAnswerFor(method: NxMethod, error: unknown, onOutage: 'miss' | 'fail'): NxAnswer {
  const { status, message } = describeError(error, {});
  const missOrSkip = method === 'GET' ? 404 : 403;
  if (status === 503) {
    return { status: onOutage === 'miss' ? missOrSkip : 503, message, reason: 'outage' };
  }
  if (status === 401) return { status: 401, message, reason: 'unauthorized' };
  if (status === 403 || status === 429) return { status: missOrSkip, message, reason: 'forbidden' };
  if (status === 409) return { status: 409, message, reason: 'exists' };
  if (status >= 500) return { status, message, reason: 'error' };
  return { status: missOrSkip, message, reason: 'invalid' };
}
