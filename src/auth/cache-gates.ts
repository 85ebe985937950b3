import { AppException } from '../common/app-exception';
import { ErrorCode } from '../common/error-codes';
import { TeamStatus } from '../teams/team.entity';
import { TokenScope } from '../tokens/token-scope';
import type { CachePrincipal } from './cache-principal';
import { checkTeamQuery } from './team-query';

/** What a cache request wants to do; each gate decides per requirement. */
export enum CacheRequirement {
  /** GET/HEAD of artifacts, the query route, usage events. */
  Read = 'read',
  /** An upload. */
  Write = 'write',
  /** The status route: answers for a paused team too (it reports `paused`). */
  Status = 'status',
}

/** Query parameters as parsed (`?slug=a&slug=b` gives an array). */
export type CacheQuery = Record<string, unknown>;

/**
 * A rule a verified principal must pass for a request: throws an AppException (a typed
 * refusal) or returns. Gates are pure and synchronous, so the hot path can apply them to a
 * principal it verified moments ago without any I/O.
 */
export type CacheGate = (
  principal: CachePrincipal,
  query: CacheQuery,
  requirement: CacheRequirement,
) => void;

/** protocol.md "Team": `?slug=` / `?teamId=` name the token's team (400, 403). */
const teamQueryNamesTokenTeam: CacheGate = (principal, query) => checkTeamQuery(query, principal);

/** A paused team is refused everywhere but the status route (403 remote_caching_paused). */
const teamNotPaused: CacheGate = (principal, _query, requirement) => {
  if (principal.teamStatus !== TeamStatus.Paused || requirement === CacheRequirement.Status) return;
  throw AppException.forbidden(
    `remote caching is paused for team ${principal.teamSlug}`,
    ErrorCode.RemoteCachingPaused,
  );
};

/** Read-only tokens never write (403 forbidden: turbo turns uploads off, keeps reading). */
const writeNeedsReadWrite: CacheGate = (principal, _query, requirement) => {
  if (requirement === CacheRequirement.Write && principal.scope === TokenScope.ReadOnly) {
    throw AppException.forbidden('this token is read-only');
  }
};

/**
 * Every gate a cache request passes after its token is verified, in order: the one list that
 * CacheAuthService applies for every frontend (the Nest guard and the artifact fast path). A
 * rule added here holds on every route at once.
 */
export const CACHE_GATES: CacheGate[] = [
  teamQueryNamesTokenTeam,
  teamNotPaused,
  writeNeedsReadWrite,
];
