import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import * as jwt from 'jsonwebtoken';
import { Repository } from 'typeorm';
import { AppException } from '../common/app-exception';
import { AuthFailureLimiter } from '../rate-limit/auth-failure.limiter';
import { Team } from '../teams/team.entity';
import {
  CACHE_TOKEN_ALGORITHM,
  peekSigningTeam,
  readCacheTokenClaims,
} from '../tokens/cache-token-claims';
import { Token } from '../tokens/token.entity';
import { TokenSigner } from '../tokens/token-signer';
import { bearerToken } from './bearer';
import { CACHE_GATES, type CacheQuery, type CacheRequirement } from './cache-gates';
import type { CachePrincipal } from './cache-principal';
import { TokenUsageRecorder } from './token-usage.recorder';
import { TtlCache } from './ttl-cache';

/**
 * How long a verified token is trusted without reading its record and its team again: the
 * bound on how long a revocation, an expiry by record, a key rotation, a team pause or a team
 * deletion takes to reach every request of every process (docs/consistency.md). A busy token costs
 * two primary-key reads per interval.
 */
export const AUTH_RECHECK_MS = 2_000;
const MAX_TOKENS = 10_000;

/** One cache request's credentials and intent, as any frontend reads them. */
export interface CacheAuthRequest {
  /** The Authorization header as received. */
  authorization: string | undefined;
  query: CacheQuery;
  requirement: CacheRequirement;
  /** The client address (per TRUST_PROXY), for the failed-authentication limit. */
  client: string;
  /**
   * false: a 401 does not count as a failed login (a revocation, which answers 200 whatever the
   * token, so it tells a guesser nothing); default true.
   */
  countFailure?: boolean;
}

interface Verified {
  principal: CachePrincipal;
  /** The token's own expiry (epoch ms), checked on every use of the cached verification. */
  expiresAtMs: number;
}

/**
 * Who may do what on the cache routes, decided once for every frontend: the Nest guard awaits
 * `authenticate`, the artifact fast path asks `peek` (no I/O) and leaves what it cannot decide
 * to the guard. Order: a client blocked for failed logins (429), the bearer token verified
 * (401: HS256 with the team's key at its current version, then the token record: not revoked,
 * not expired, same scope), then CACHE_GATES (400/403). Refusals are AppExceptions.
 */
@Injectable()
export class CacheAuthService {
  private readonly verified = new TtlCache<string, Verified>(AUTH_RECHECK_MS, MAX_TOKENS);

  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    @InjectRepository(Token) private readonly tokens: Repository<Token>,
    private readonly signer: TokenSigner,
    private readonly usage: TokenUsageRecorder,
    private readonly failures: AuthFailureLimiter,
  ) {}

  /** The principal allowed to do `request.requirement`, or a typed refusal (rejects). */
  async authenticate(request: CacheAuthRequest): Promise<CachePrincipal> {
    this.failures.assertNotBlocked(request.client);
    const raw = bearerToken(request.authorization);
    let principal: CachePrincipal;
    try {
      if (!raw)
        throw AppException.unauthorized('missing bearer token (Authorization: Bearer <token>)');
      principal = await this.verifiedPrincipal(raw);
    } catch (error) {
      if (
        error instanceof AppException &&
        error.getStatus() === 401 &&
        request.countFailure !== false
      ) {
        await this.failures.recordFailure(request.client);
      }
      throw error;
    }
    for (const gate of CACHE_GATES) gate(principal, request.query, request.requirement);
    return principal;
  }

  /**
   * The principal when everything can be decided now, without I/O: a token verified less than
   * AUTH_RECHECK_MS ago, unexpired, that passes every gate, and no client blocked. Undefined
   * otherwise (the caller then awaits `authenticate`, which also renders any refusal).
   */
  peek(request: CacheAuthRequest): CachePrincipal | undefined {
    if (this.failures.blocksAnyone()) return undefined;
    const raw = bearerToken(request.authorization);
    const verified = raw === null ? undefined : this.verified.peek(raw);
    if (!verified || verified.expiresAtMs <= Date.now()) return undefined;
    try {
      for (const gate of CACHE_GATES) gate(verified.principal, request.query, request.requirement);
    } catch {
      return undefined;
    }
    return verified.principal;
  }

  /**
   * Forgets this process's verification of a token (after revoking it through this process: it
   * is refused here at once, and on other processes within AUTH_RECHECK_MS).
   */
  forget(rawToken: string): void {
    this.verified.delete(rawToken);
  }

  private async verifiedPrincipal(raw: string): Promise<CachePrincipal> {
    let verified = await this.verified.get(raw, () => this.verify(raw));
    if (verified.expiresAtMs <= Date.now())
      verified = await this.verified.get(raw, () => this.verify(raw), 0);
    return verified.principal;
  }

  /** Verifies a token against the database (its team's key, its record). */
  private async verify(raw: string): Promise<Verified> {
    // The unverified claims only choose the key to verify with.
    const claimed = peekSigningTeam(raw);
    if (!claimed) throw AppException.unauthorized('invalid token');
    const team = await this.teams.findOne({
      where: { id: claimed.teamId },
      select: { id: true, slug: true, status: true, keyVersion: true, trustedEntries: true },
    });
    // A token of an older key version was voided by a rotation; a newer one is forged.
    if (!team || team.keyVersion !== claimed.keyVersion) {
      throw AppException.unauthorized('invalid token');
    }
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(raw, this.signer.keyFor(team.id, team.keyVersion), {
        algorithms: [CACHE_TOKEN_ALGORITHM],
      });
    } catch (error) {
      const expired = (error as Error).name === 'TokenExpiredError';
      throw AppException.unauthorized(expired ? 'token has expired' : 'invalid token');
    }
    const claims = readCacheTokenClaims(payload);
    if (!claims || claims.teamId !== team.id) throw AppException.unauthorized('invalid token');
    const token = await this.tokens.findOne({
      where: { id: claims.tokenId },
      select: {
        id: true,
        teamId: true,
        name: true,
        scope: true,
        tier: true,
        overlayScope: true,
        expiresAt: true,
        revokedAt: true,
      },
    });
    if (!token || token.teamId !== team.id || token.scope !== claims.scope) {
      throw AppException.unauthorized('invalid token');
    }
    if (token.revokedAt) throw AppException.unauthorized('token has been revoked');
    if (token.expiresAt && token.expiresAt.getTime() <= Date.now()) {
      throw AppException.unauthorized('token has expired');
    }
    this.usage.touch(token.id);
    const exp = typeof payload === 'object' ? payload.exp : undefined;
    return {
      principal: {
        tokenId: token.id,
        tokenName: token.name,
        teamId: team.id,
        teamSlug: team.slug,
        scope: token.scope,
        tier: token.tier,
        overlayScope: token.overlayScope,
        teamStatus: team.status,
        trustedEntries: team.trustedEntries,
      },
      expiresAtMs: typeof exp === 'number' ? exp * 1000 : Infinity,
    };
  }
}
