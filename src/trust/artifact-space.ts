import { AppException } from '../common/app-exception';
import {
  InvalidOverlayScopeError,
  parseOverlayScope,
  RESERVED_SCOPE,
  TrustTier,
} from './trust-tier';

/**
 * The `overlay_scope` of a row in the team's trusted namespace. Every row written before trust
 * tiers has it; scope names are never empty (OVERLAY_SCOPE_PATTERN), so it names no overlay.
 */
export const TRUSTED_NAMESPACE = '';

/**
 * Which of a team's artifacts a cache token sees and where its uploads land: `overlayScope`
 * null for a trusted token (the trusted namespace only), the scope name for an untrusted one.
 */
export interface ArtifactSpace {
  teamId: string;
  tier: TrustTier;
  overlayScope: string | null;
}

/** A space whose tier and scope disagree: a bug, refused rather than guessed (fail closed). */
export class InconsistentSpaceError extends Error {
  constructor(space: ArtifactSpace) {
    super(`a ${space.tier} token with overlay scope ${JSON.stringify(space.overlayScope)}`);
    this.name = 'InconsistentSpaceError';
  }
}

/** `space`'s overlay scope, null for a trusted one; throws unless tier and scope agree. */
function overlayOf(space: ArtifactSpace): string | null {
  if (space.tier === TrustTier.Trusted && space.overlayScope === null) return null;
  if (
    space.tier === TrustTier.Untrusted &&
    typeof space.overlayScope === 'string' &&
    space.overlayScope !== ''
  ) {
    return space.overlayScope;
  }
  throw new InconsistentSpaceError(space);
}

/**
 * The namespace an upload of `space` lands in: its overlay, or the trusted namespace. Decided by
 * the tier: an untrusted space without a scope throws, it never falls back to trusted.
 */
export function writeNamespaceOf(space: ArtifactSpace): string {
  return overlayOf(space) ?? TRUSTED_NAMESPACE;
}

/**
 * The namespaces `space` reads, in precedence order: the trusted namespace, then (untrusted
 * tokens only) the overlay of its scope. Never another scope's overlay.
 */
export function readNamespacesOf(space: ArtifactSpace): string[] {
  const overlay = overlayOf(space);
  return overlay === null ? [TRUSTED_NAMESPACE] : [TRUSTED_NAMESPACE, overlay];
}

/**
 * The row a reader of `space` gets among rows of one hash from any namespaces: the trusted one
 * when present, else its own overlay's; undefined when it may see none of them.
 */
export function visibleRow<T extends { overlay_scope: string }>(
  rows: readonly T[],
  space: ArtifactSpace,
): T | undefined {
  for (const namespace of readNamespacesOf(space)) {
    const row = rows.find((candidate) => candidate.overlay_scope === namespace);
    if (row) return row;
  }
  return undefined;
}

/** Where a stored version lives, as the audit API and CLI show it. */
export interface ArtifactLocation {
  /** The writer's tier: only trusted tokens write the trusted namespace, only untrusted ones overlays. */
  tier: TrustTier;
  /** The overlay's scope; null in the trusted namespace. */
  scope: string | null;
}

/** The location of a row from its `overlay_scope` column. */
export function locationOf(namespace: string): ArtifactLocation {
  return namespace === TRUSTED_NAMESPACE
    ? { tier: TrustTier.Trusted, scope: null }
    : { tier: TrustTier.Untrusted, scope: namespace };
}

/** Who may read a version in `namespace`, in words (audit output). */
export function visibleToOf(namespace: string): string {
  return namespace === TRUSTED_NAMESPACE
    ? 'every token of the team'
    : `untrusted tokens of scope ${namespace}, while the team has no trusted entry of this hash`;
}

/**
 * The namespace an admin names: `trusted` for the trusted namespace, else an overlay's scope
 * name; 400 (AppException) for anything else.
 */
export function namespaceOf(scope: string): string {
  if (scope === RESERVED_SCOPE) return TRUSTED_NAMESPACE;
  try {
    return parseOverlayScope(scope);
  } catch (error) {
    if (error instanceof InvalidOverlayScopeError) {
      throw AppException.badRequest(`${error.message}, or "trusted"`);
    }
    throw error;
  }
}
