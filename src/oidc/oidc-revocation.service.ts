import { Injectable } from '@nestjs/common';
import { AppException } from '../common/app-exception';
import { CacheAuthService } from '../auth/cache-auth.service';
import { CacheRequirement } from '../auth/cache-gates';
import { TokensService } from '../tokens/tokens.service';

/**
 * POST /oidc/revoke (RFC 7009 shape): whoever holds a cache token may revoke it, e.g. in a CI
 * job's last step. Refused everywhere within AUTH_RECHECK_MS (at once on this process). Per RFC
 * 7009 2.2 an invalid, expired or already revoked token is answered like a revoked one, and
 * does not count as a failed login; only a missing `token` is a 400, and a client blocked for
 * failed logins a 429.
 */
@Injectable()
export class OidcRevocation {
  constructor(
    private readonly auth: CacheAuthService,
    private readonly tokens: TokensService,
  ) {}

  async revoke(token: unknown, client: string): Promise<void> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      throw AppException.badRequest('token must be the cache token to revoke');
    }
    let tokenId: string;
    try {
      tokenId = (
        await this.auth.authenticate({
          authorization: `Bearer ${token}`,
          query: {},
          requirement: CacheRequirement.Status,
          client,
          // A revoke step that runs twice (or after expiry) must not count against the runner.
          countFailure: false,
        })
      ).tokenId;
    } catch (error) {
      if (error instanceof AppException && error.getStatus() === 401) return;
      throw error;
    }
    await this.tokens.revoke(tokenId);
    this.auth.forget(token);
  }
}
