import { randomBytes } from 'node:crypto';

/**
 * The names of stored artifact bodies. Every upload writes a key of its own,
 * `<teamId>/<hash>.<version>` with a fresh random `version` (24 hex digits, 96 bits), so a key
 * is written once and never changes: a reader that knows the key from the artifact's row reads
 * exactly the bytes of that upload, whatever other uploads of the same hash do meanwhile.
 * `<teamId>/<hash>` (no version) is the layout before versions; such keys are still read for
 * rows that name no version, never written.
 */
export interface BlobKeyParts {
  teamId: string;
  hash: string;
  /** null: a key of the unversioned layout. */
  version: string | null;
}

/** The longest artifact hash (protocol.md: hex, capped so it stays a sane object key). */
export const MAX_HASH_LENGTH = 128;
const VERSION_DIGITS = 24;
const BLOB_KEY = new RegExp(
  `^(team_[A-Za-z0-9]+)/([a-fA-F0-9]{1,${MAX_HASH_LENGTH}})(?:\\.([a-f0-9]{${VERSION_DIGITS}}))?$`,
);
const TEAM_ID = /^team_[A-Za-z0-9]+$/;

/** A version no other upload gets (randomBytes(12) as hex). */
export function newBlobVersion(): string {
  return randomBytes(VERSION_DIGITS / 2).toString('hex');
}

/** The key of one stored body; `version` null names the unversioned layout. */
export function artifactBlobKey(teamId: string, hash: string, version: string | null): string {
  return version === null ? `${teamId}/${hash}` : `${teamId}/${hash}.${version}`;
}

/** The parts of an artifact key, or null for any other string (never a path we wrote). */
export function parseBlobKey(key: string): BlobKeyParts | null {
  const match = BLOB_KEY.exec(key);
  if (!match) return null;
  return { teamId: match[1], hash: match[2], version: match[3] ?? null };
}

/** Whether `name` is a team folder/prefix name (`team_...`). */
export function isTeamId(name: string): boolean {
  return TEAM_ID.test(name);
}
