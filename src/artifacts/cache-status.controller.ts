import { Controller, Get, UseGuards } from '@nestjs/common';
import { AllowPausedTeam } from '../auth/cache-auth.decorators';
import { CacheAuthGuard } from '../auth/cache-auth.guard';
import { CurrentPrincipal, type CachePrincipal } from '../auth/cache-principal';
import { QuotaService } from './quota.service';
import { TeamStatus } from '../teams/team.entity';
import { ApiCacheRoutes, ApiCacheStatus } from './artifacts.openapi';
import { CACHE_ROUTE_PREFIXES } from '../http/cache-routes';

/** GET /v8/artifacts/status: turbo shows it in its banner once per run. */
@Controller(CACHE_ROUTE_PREFIXES)
@UseGuards(CacheAuthGuard)
@ApiCacheRoutes()
export class CacheStatusController {
  constructor(private readonly quota: QuotaService) {}

  @Get('status')
  @ApiCacheStatus()
  @AllowPausedTeam()
  async status(@CurrentPrincipal() principal: CachePrincipal) {
    if (principal.teamStatus === TeamStatus.Paused) return { status: 'paused' };
    // over_limit only where a hard limit blocks uploads (QUOTA_MODE=reject); evict keeps serving.
    // The banner is all this changes: a failed quota lookup must not fail the status call.
    const overLimit = await this.quota.isOverLimit(principal.teamId).catch(() => false);
    return { status: overLimit ? 'over_limit' : 'enabled' };
  }
}
