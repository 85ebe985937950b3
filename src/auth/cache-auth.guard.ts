import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { clientAddress } from '../rate-limit/auth-failure.limiter';
import { ALLOW_PAUSED_TEAM, REQUIRE_WRITE } from './cache-auth.decorators';
import { CacheAuthService } from './cache-auth.service';
import { CacheRequirement } from './cache-gates';
import { attachPrincipal } from './cache-principal';

/**
 * Guards every cache route by asking CacheAuthService; holds no rule of its own. The handler's
 * metadata names the requirement: @RequireWrite() an upload, @AllowPausedTeam() the status
 * route, anything else a read. Puts the CachePrincipal on the request for @CurrentPrincipal().
 */
@Injectable()
export class CacheAuthGuard implements CanActivate {
  constructor(
    private readonly auth: CacheAuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    const principal = await this.auth.authenticate({
      authorization: request.headers.authorization,
      query: request.query,
      requirement: this.requirementOf(context),
      client: clientAddress(request),
    });
    attachPrincipal(request, principal);
    return true;
  }

  private requirementOf(context: ExecutionContext): CacheRequirement {
    if (this.marked(REQUIRE_WRITE, context)) return CacheRequirement.Write;
    if (this.marked(ALLOW_PAUSED_TEAM, context)) return CacheRequirement.Status;
    return CacheRequirement.Read;
  }

  private marked(key: string, context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(key, [context.getHandler(), context.getClass()]) ===
      true
    );
  }
}
