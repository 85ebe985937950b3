import { AppException } from '../common/app-exception';
import { TEAM_ID, TEAM_SLUG } from '../teams/team-ref';
import type { CachePrincipal } from './cache-principal';

type Query = Record<string, unknown>;

/**
 * protocol.md "Team": `?slug=` and/or `?teamId=` must name the token's own team. Only the
 * token's team is ever compared, never looked up, so an unknown team and another team's look
 * the same (403): no existence oracle. Malformed values, or two names of which one is the
 * token's team and the other is not, are 400.
 */
export function checkTeamQuery(query: Query, principal: CachePrincipal): void {
  const slug = single(query, 'slug');
  const teamId = single(query, 'teamId');
  if (slug !== undefined && !TEAM_SLUG.test(slug) && !TEAM_ID.test(slug)) {
    throw AppException.badRequest(
      'slug must be a team slug (lowercase letters, digits, "-") or a team id',
    );
  }
  if (teamId !== undefined && !TEAM_ID.test(teamId)) {
    throw AppException.badRequest('teamId must be a team id (team_...)');
  }
  // turbo sends TURBO_TEAM as ?slug= even when it holds a team id.
  const slugIsOurs =
    slug === undefined ? undefined : slug === principal.teamSlug || slug === principal.teamId;
  const teamIdIsOurs = teamId === undefined ? undefined : teamId === principal.teamId;
  if (slugIsOurs !== undefined && teamIdIsOurs !== undefined && slugIsOurs !== teamIdIsOurs) {
    throw AppException.badRequest('slug and teamId name different teams');
  }
  if (slugIsOurs === false || teamIdIsOurs === false) {
    throw AppException.forbidden(
      `this token is not valid for team ${JSON.stringify(slug ?? teamId)}`,
    );
  }
}

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw AppException.badRequest(`${name} must be given once`);
  return value;
}
