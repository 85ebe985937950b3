import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { TeamStatus } from '../teams/team.entity';
import type { TokenScope } from '../tokens/token-scope';

/** Who is calling a cache route: the verified token and its team, as CacheAuthGuard found them. */
export interface CachePrincipal {
  tokenId: string;
  teamId: string;
  teamSlug: string;
  scope: TokenScope;
  teamStatus: TeamStatus;
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
