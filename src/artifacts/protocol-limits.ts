import { MAX_HASH_LENGTH } from '../storage/blob-keys';

/**
 * Every limit of the Remote Cache protocol (protocol.md), in one place: the parsers, the DTOs
 * and the database columns all use these, so a limit can never be checked at one size and
 * stored at another.
 */
export const PROTOCOL_LIMITS = {
  /** Artifact hash: 1 to this many hex characters. */
  hashLength: MAX_HASH_LENGTH,
  /** x-artifact-tag (the client's HMAC signature, base64). */
  tagLength: 600,
  /** x-artifact-sha (git HEAD). */
  shaLength: 128,
  /** x-artifact-dirty-hash. */
  dirtyHashLength: 128,
  /** x-artifact-client-ci (github-actions, circleci, ...). */
  clientCiLength: 50,
  /** Hashes in one POST /v8/artifacts query. */
  queryHashes: 1_024,
  /** Usage events in one POST /v8/artifacts/events. */
  eventsPerBatch: 1_000,
} as const;
