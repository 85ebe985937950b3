import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { TeamStatus, TrustedEntries } from '../teams/team.entity';
import type { TokenScope } from '../tokens/token-scope';
import type { ArtifactSpace } from '../trust/artifact-space';
import type { TrustTier } from '../trust/trust-tier';

/**
 * Who is calling a cache route: the verified token and its team, as CacheAuthGuard found them.
 * As an ArtifactSpace it says what the token sees and where its uploads land (`overlayScope`
 * null: trusted).
 */
export interface CachePrincipal extends ArtifactSpace {
  tokenId: string;
  /** The token's name (provenance), null when it has none. */
  tokenName: string | null;
  teamId: string;
  teamSlug: string;
  scope: TokenScope;
  tier: TrustTier;
  teamStatus: TeamStatus;
  /** Whether the team's trusted entries may be replaced by a later trusted upload. */
  trustedEntries: TrustedEntries;
}

const principals = new WeakMap<object, CachePrincipal>();

export function attachPrincipal(request: object, principal: CachePrincipal): void {
  principals.set(request, principal);
}

export function principalOf(request: object): CachePrincipal {
  const principal = principals.get(request);
  // A programming error, not a client one: the handler forgot @UseGuards(CacheAuthGuard).
  if (!principal) throw new Error('no cache principal on this request: is CacheAuthGuard applied?');
  return principal;
}

/** The CachePrincipal of the request; the route must be guarded by CacheAuthGuard. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): CachePrincipal =>
    principalOf(context.switchToHttp().getRequest<object>()),
);
