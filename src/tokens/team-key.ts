import { createHmac, createSecretKey, KeyObject } from 'node:crypto';

/**
 * The HS256 key of one team's tokens: HMAC-SHA256(JWT_SECRET, `${teamId}:${keyVersion}`).
 * Derived on demand, so no signing secret is stored in the database, and bumping one team's
 * keyVersion voids that team's tokens only. A KeyObject of type "secret" can never be mistaken
 * for a public key by the verifier (no RS/HS confusion).
 */
export function deriveTeamKey(jwtSecret: string, teamId: string, keyVersion: number): KeyObject {
  const bytes = createHmac('sha256', jwtSecret).update(`${teamId}:${keyVersion}`).digest();
  return createSecretKey(bytes);
}
