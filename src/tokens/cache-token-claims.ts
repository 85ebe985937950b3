import * as jwt from 'jsonwebtoken';
import { TEAM_ID } from '../teams/team-ref';
import { TokenScope } from './token-scope';

/** The only algorithm cache tokens are signed and verified with. */
export const CACHE_TOKEN_ALGORITHM = 'HS256';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SCOPES: readonly string[] = Object.values(TokenScope);

/**
 * What a cache token carries: `jti` (the token record's id), `team` (the team id), `scope`,
 * `kv` (the team key version it was signed with), `iat` and, when it expires, `exp`.
 */
export interface CacheTokenClaims {
  tokenId: string;
  teamId: string;
  scope: TokenScope;
  keyVersion: number;
}

/**
 * Reads, WITHOUT verifying anything, which team key a token says it was signed with: only to
 * pick the key to verify it with. Null for anything that is not an HS256 JWT naming a team.
 */
export function peekSigningTeam(rawToken: string): { teamId: string; keyVersion: number } | null {
  const decoded = jwt.decode(rawToken, { complete: true });
  if (!decoded || decoded.header.alg !== CACHE_TOKEN_ALGORITHM) return null;
  const payload = decoded.payload as Record<string, unknown>;
  if (typeof payload !== 'object' || payload === null) return null;
  const { team, kv } = payload;
  if (typeof team !== 'string' || !TEAM_ID.test(team)) return null;
  if (!Number.isSafeInteger(kv) || (kv as number) < 1) return null;
  return { teamId: team, keyVersion: kv as number };
}

/** The claims of a verified payload, or null when it is not shaped like a cache token. */
export function readCacheTokenClaims(payload: unknown): CacheTokenClaims | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { jti, team, scope, kv } = payload as Record<string, unknown>;
  if (typeof jti !== 'string' || !UUID.test(jti)) return null;
  if (typeof team !== 'string' || !TEAM_ID.test(team)) return null;
  if (typeof scope !== 'string' || !SCOPES.includes(scope)) return null;
  if (!Number.isSafeInteger(kv) || (kv as number) < 1) return null;
  return { tokenId: jti, teamId: team, scope: scope as TokenScope, keyVersion: kv as number };
}
