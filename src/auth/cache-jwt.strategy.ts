import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { ExtractJwt, SecretOrKeyProvider, Strategy } from 'passport-jwt';
import { AppException } from '../common/app-exception';
import type { Team } from '../teams/team.entity';
import { AuthLookups } from './auth-lookups';
import type { CachePrincipal } from './cache-principal';
import {
  CACHE_TOKEN_ALGORITHM,
  peekSigningTeam,
  readCacheTokenClaims,
} from '../tokens/cache-token-claims';
import { TokenSigner } from '../tokens/token-signer';
import { TokenUsageRecorder } from './token-usage.recorder';

export const CACHE_JWT_STRATEGY = 'cache-jwt';

/** A token that does not name a known team at its current key version (401). */
export class TokenRejected extends Error {}

/** Finding the team's key failed for another reason (the database): not the client's fault. */
export class KeyLookupFailed extends Error {
  constructor(readonly reason: unknown) {
    super('could not look up the token signing key');
  }
}

/**
 * Verifies cache tokens: the unverified `team`/`kv` claims only choose the key (the team's
 * derived key at its current version), passport-jwt verifies the signature with it (HS256 only)
 * and the expiry, then `validate` checks the token record (revocation, team, scope).
 */
@Injectable()
export class CacheJwtStrategy extends PassportStrategy(Strategy, CACHE_JWT_STRATEGY) {
  /** The team whose key verified a request's token, for `validate`. */
  private readonly verifiedTeams: WeakMap<Request, Team>;

  constructor(
    private readonly lookups: AuthLookups,
    signer: TokenSigner,
    private readonly usage: TokenUsageRecorder,
  ) {
    const verifiedTeams = new WeakMap<Request, Team>();
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: teamKeyProvider(lookups, signer, verifiedTeams),
      algorithms: [CACHE_TOKEN_ALGORITHM],
      passReqToCallback: true,
    });
    this.verifiedTeams = verifiedTeams;
  }

  async validate(request: Request, payload: unknown): Promise<CachePrincipal> {
    const team = this.verifiedTeams.get(request);
    const claims = readCacheTokenClaims(payload);
    if (!team || !claims || claims.teamId !== team.id)
      throw AppException.unauthorized('invalid token');
    const token = await this.lookups.token(claims.tokenId);
    if (!token || token.teamId !== team.id || token.scope !== claims.scope) {
      throw AppException.unauthorized('invalid token');
    }
    if (token.revokedAt) throw AppException.unauthorized('token has been revoked');
    if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) {
      throw AppException.unauthorized('token has expired');
    }
    this.usage.touch(token.id);
    return {
      tokenId: token.id,
      teamId: team.id,
      teamSlug: team.slug,
      scope: token.scope,
      teamStatus: team.status,
    };
  }
}

function teamKeyProvider(
  lookups: AuthLookups,
  signer: TokenSigner,
  verifiedTeams: WeakMap<Request, Team>,
): SecretOrKeyProvider<Request> {
  return (request, rawToken: string, done) => {
    const claimed = peekSigningTeam(rawToken);
    if (!claimed) return done(new TokenRejected('invalid token'));
    lookups.teamForKey(claimed.teamId, claimed.keyVersion).then(
      (team) => {
        // A token of an older key version was voided by a rotation; a newer one is forged.
        if (!team || team.keyVersion !== claimed.keyVersion) {
          return done(new TokenRejected('invalid token'));
        }
        verifiedTeams.set(request, team);
        // jsonwebtoken takes a KeyObject (passport-jwt's typings say string | Buffer): a
        // "secret" KeyObject can only ever verify HMAC signatures.
        done(null, signer.keyFor(team.id, team.keyVersion) as unknown as Buffer);
      },
      (error: unknown) => done(new KeyLookupFailed(error)),
    );
  };
}
