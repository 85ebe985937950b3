import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import passport from 'passport';
import { ExtractJwt } from 'passport-jwt';
import { AppException } from '../common/app-exception';
import { ErrorCode } from '../common/error-codes';
import { AuthFailureLimiter } from '../rate-limit/auth-failure.limiter';
import { TeamStatus } from '../teams/team.entity';
import { ALLOW_PAUSED_TEAM, REQUIRE_WRITE } from './cache-auth.decorators';
import { CacheJwtStrategy, KeyLookupFailed } from './cache-jwt.strategy';
import { attachPrincipal, CachePrincipal } from './cache-principal';
import { checkTeamQuery } from './team-query';
import { TokenScope } from '../tokens/token-scope';
import { VerifiedTokens } from './verified-tokens';

const extractBearer = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Guards every cache route: a valid token of the team named in the query (401, 400, 403),
 * a team that is not paused (403 remote_caching_paused, unless @AllowPausedTeam()), and a
 * read-write token on @RequireWrite() handlers (403 forbidden). Puts the CachePrincipal on
 * the request for @CurrentPrincipal().
 */
@Injectable()
export class CacheAuthGuard implements CanActivate {
  constructor(
    private readonly verified: VerifiedTokens,
    private readonly strategy: CacheJwtStrategy,
    private readonly reflector: Reflector,
    private readonly failures: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    // Before the token: a client that keeps failing is refused without any key lookup.
    this.failures.assertNotBlocked(request, response);
    const principal = await this.verify(request, response).catch(async (error: unknown) => {
      if (error instanceof AppException && error.getStatus() === 401) {
        await this.failures.recordFailure(request);
      }
      throw error;
    });
    checkTeamQuery(request.query, principal);
    if (principal.teamStatus === TeamStatus.Paused && !this.marked(ALLOW_PAUSED_TEAM, context)) {
      throw AppException.forbidden(
        `remote caching is paused for team ${principal.teamSlug}`,
        ErrorCode.RemoteCachingPaused,
      );
    }
    if (principal.scope === TokenScope.ReadOnly && this.marked(REQUIRE_WRITE, context)) {
      throw AppException.forbidden('this token is read-only');
    }
    attachPrincipal(request, principal);
    return true;
  }

  private marked(key: string, context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(key, [context.getHandler(), context.getClass()]) ===
      true
    );
  }

  /** The principal of the request's token: verified recently (and still unexpired), or now. */
  private async verify(request: Request, response: Response): Promise<CachePrincipal> {
    const raw = extractBearer(request);
    if (!raw) return this.authenticate(request, response);
    return this.verified.get(raw, () => this.authenticate(request, response));
  }

  /**
   * Runs this app's strategy instance rather than the one registered under its name in
   * passport's process-wide registry (which is the last app created, e.g. in tests). Like
   * passport does for a named strategy, each request gets its own Object.create() copy, as
   * authenticate() binds success/fail to the object it runs on.
   */
  private authenticate(request: Request, response: Response): Promise<CachePrincipal> {
    const strategy = Object.create(this.strategy) as CacheJwtStrategy;
    return new Promise((resolve, reject) => {
      const done = (error: unknown, user: CachePrincipal | false, info: unknown) => {
        if (error) return reject(error);
        if (info instanceof KeyLookupFailed) return reject(info.reason);
        if (!user) return reject(AppException.unauthorized(unauthorizedMessage(info)));
        resolve(user);
      };
      passport.authenticate(strategy, { session: false }, done)(
        request,
        response,
        (error?: unknown) => reject(error ?? AppException.unauthorized()),
      );
    });
  }
}

function unauthorizedMessage(info: unknown): string {
  const { name, message } = (info ?? {}) as { name?: string; message?: string };
  if (message === 'No auth token') return 'missing bearer token (Authorization: Bearer <token>)';
  if (name === 'TokenExpiredError') return 'token has expired';
  return 'invalid token';
}
