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
/**
 * The longest Nx hash: Nx's task hashes are decimal u64 numbers (nx's Rust hasher formats a
 * xxh3 u64 with `to_string()`), at most 20 digits.
 */
export const MAX_NX_HASH_LENGTH = 20;
/**
 * Which client an artifact belongs to. Nx hashes are decimal, so one can equal a turbo (hex)
 * hash: each tool has a namespace of its own within a team. A turbo artifact is stored under its
 * hash; an Nx artifact under `nx-<hash>` ("-" is not hex, so the two never meet). Every query,
 * quota, retention, purge and key listing treats the stored hash as opaque, so both count alike.
 */
export type CacheTool = 'turbo' | 'nx';
const NX_PREFIX = 'nx-';
const VERSION_DIGITS = 24;
const BLOB_KEY = new RegExp(
  `^(team_[A-Za-z0-9]+)/([a-fA-F0-9]{1,${MAX_HASH_LENGTH}}|${NX_PREFIX}[0-9]{1,${MAX_NX_HASH_LENGTH}})` +
    `(?:\\.([a-f0-9]{${VERSION_DIGITS}}))?$`,
);

/** The stored hash of an Nx artifact (`digits`: the hash Nx sent, 1 to 20 decimal digits). */
export function nxStoredHash(digits: string): string {
  return `${NX_PREFIX}${digits}`;
}

/** The tool a stored hash belongs to, and the hash that tool knows it by. */
export function toolOfStoredHash(stored: string): { tool: CacheTool; hash: string } {
  return stored.startsWith(NX_PREFIX)
    ? { tool: 'nx', hash: stored.slice(NX_PREFIX.length) }
    : { tool: 'turbo', hash: stored };
}

/** SQL for the tool of an artifacts/usage row's `hash` column (stats split by tool). */
export function toolOfHashSql(column: string): string {
  return `CASE WHEN ${column} LIKE '${NX_PREFIX}%' THEN 'nx' ELSE 'turbo' END`;
}
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
