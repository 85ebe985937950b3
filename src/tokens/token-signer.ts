import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
import { CACHE_TOKEN_ALGORITHM, CacheTokenClaims } from './cache-token-claims';
import { deriveTeamKey } from './team-key';

/** The server secret (resolveJwtSecret), provided by TokensModule. */
export const JWT_SIGNING_SECRET = Symbol('JWT_SIGNING_SECRET');

/** Signs cache tokens and gives the key to verify them with, per team and key version. */
@Injectable()
export class TokenSigner {
  constructor(@Inject(JWT_SIGNING_SECRET) private readonly secret: string) {}

  keyFor(teamId: string, keyVersion: number): KeyObject {
    return deriveTeamKey(this.secret, teamId, keyVersion);
  }

  /** `expiresAt` is rounded down to the second, as JWT `exp` is; returns the token string. */
  sign(claims: CacheTokenClaims, expiresAt: Date | null): string {
    const payload: jwt.JwtPayload = {
      team: claims.teamId,
      scope: claims.scope,
      kv: claims.keyVersion,
    };
    if (expiresAt) payload.exp = Math.floor(expiresAt.getTime() / 1000);
    return jwt.sign(payload, this.keyFor(claims.teamId, claims.keyVersion), {
      algorithm: CACHE_TOKEN_ALGORITHM,
      jwtid: claims.tokenId,
    });
  }
}
