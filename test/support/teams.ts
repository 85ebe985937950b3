import type { INestApplication } from '@nestjs/common';
import { TokenScope } from '../../src/tokens/token-scope';
import type { Team } from '../../src/teams/team.entity';
import { TeamsService } from '../../src/teams/teams.service';
import { IssuedToken, IssueToken, TokensService } from '../../src/tokens/tokens.service';

type HasApp = { app: INestApplication };

/** A team with this slug (display name: the slug unless given). */
export function createTeam(t: HasApp, slug: string, name?: string): Promise<Team> {
  return t.app.get(TeamsService).create({ slug, name });
}

/** A cache token of `team` (read-write and without expiry unless asked). */
export function issueToken(
  t: HasApp,
  team: Team | string,
  options: IssueToken = {},
): Promise<IssuedToken> {
  return t.app.get(TokensService).issue(typeof team === 'string' ? team : team.id, options);
}

export function revokeToken(t: HasApp, tokenId: string) {
  return t.app.get(TokensService).revoke(tokenId);
}

export function pauseTeam(t: HasApp, team: Team) {
  return t.app.get(TeamsService).pause(team.id);
}

export function resumeTeam(t: HasApp, team: Team) {
  return t.app.get(TeamsService).resume(team.id);
}

export function rotateTeamKey(t: HasApp, team: Team) {
  return t.app.get(TeamsService).rotateKey(team.id);
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export { TokenScope };
