/**
 * Trust tiers (issue 16; the attack is CVE-2025-36852, "CREEP"): a trusted token (main's CI)
 * reads and writes the team's trusted namespace; an untrusted token (a pull request, a laptop)
 * reads the trusted namespace first, then the overlay of its scope, and writes only into that
 * overlay, so it can never create or replace what trusted builds restore.
 */
export enum TrustTier {
  Trusted = 'trusted',
  Untrusted = 'untrusted',
}

/** What an admin may name a scope: a letter or digit, then letters, digits, `.`, `_`, `-`. */
export const OVERLAY_SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The longest scope name (the `overlay_scope` columns are varchar(64)). */
export const MAX_OVERLAY_SCOPE_LENGTH = 64;

/**
 * A name no scope may have: where an admin names a namespace (`artifacts list/purge --scope`),
 * `trusted` means the trusted namespace.
 */
export const RESERVED_SCOPE = 'trusted';

export class InvalidOverlayScopeError extends Error {
  constructor(value: unknown) {
    super(
      value === RESERVED_SCOPE
        ? `scope "${RESERVED_SCOPE}" is reserved (it names the trusted namespace)`
        : `scope must be 1 to ${MAX_OVERLAY_SCOPE_LENGTH} letters, digits, ".", "_" or "-", starting with a letter or digit (got ${JSON.stringify(value)})`,
    );
    this.name = 'InvalidOverlayScopeError';
  }
}

/** `value` as a scope name, or InvalidOverlayScopeError (also for the reserved `trusted`). */
export function parseOverlayScope(value: unknown): string {
  if (
    typeof value !== 'string' ||
    !OVERLAY_SCOPE_PATTERN.test(value) ||
    value.toLowerCase() === RESERVED_SCOPE
  ) {
    throw new InvalidOverlayScopeError(value);
  }
  return value;
}

/**
 * The scope of an untrusted token issued without one: its own (`token-<id>`, 42 characters), so
 * two such tokens never see each other's entries.
 */
export function defaultOverlayScope(tokenId: string): string {
  return `token-${tokenId}`;
}
