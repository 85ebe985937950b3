import { AppException } from '../common/app-exception';
import { TeamStatus, TrustedEntries } from '../teams/team.entity';
import { TrustTier } from '../trust/trust-tier';
import type { CachePrincipal } from './cache-principal';
import { checkTeamQuery } from './team-query';
import { TokenScope } from '../tokens/token-scope';

const principal: CachePrincipal = {
  tokenId: '6f1c2f0e-8a4b-4c1d-9e2f-3a4b5c6d7e8f',
  teamId: 'team_Own000000000000000000',
  teamSlug: 'own',
  scope: TokenScope.ReadWrite,
  teamStatus: TeamStatus.Enabled,
  tokenName: null,
  tier: TrustTier.Trusted,
  overlayScope: null,
  trustedEntries: TrustedEntries.Replaceable,
};
const OTHER_ID = 'team_Other0000000000000000';

function statusOf(query: Record<string, unknown>): number {
  try {
    checkTeamQuery(query, principal);
    return 200;
  } catch (error) {
    return (error as AppException).getStatus();
  }
}

describe('checkTeamQuery', () => {
  it.each([
    [{}],
    [{ slug: 'own' }],
    [{ teamId: principal.teamId }],
    [{ slug: principal.teamId }],
    [{ slug: 'own', teamId: principal.teamId }],
  ])('accepts the token team named as %j', (query) => {
    expect(statusOf(query)).toBe(200);
  });

  it.each([
    [{ slug: 'other' }],
    [{ teamId: OTHER_ID }],
    [{ slug: OTHER_ID }],
    [{ slug: 'other', teamId: OTHER_ID }],
    [{ slug: 'other', teamId: 'team_Unknown000000000000' }],
  ])('forbids (403) another or unknown team named as %j', (query) => {
    expect(statusOf(query)).toBe(403);
  });

  it.each([
    [{ slug: 'own', teamId: OTHER_ID }],
    [{ slug: 'other', teamId: principal.teamId }],
    [{ slug: 'Own' }],
    [{ slug: '' }],
    [{ slug: "own'--" }],
    [{ slug: 'öwn' }],
    [{ teamId: 'own' }],
    [{ slug: ['own', 'own'] }],
    [{ slug: { nested: 'own' } }],
  ])('refuses (400) %j', (query) => {
    expect(statusOf(query)).toBe(400);
  });
});
