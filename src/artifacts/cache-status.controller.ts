import { Controller, Get, UseGuards } from '@nestjs/common';
import { AllowPausedTeam } from '../auth/cache-auth.decorators';
import { CacheAuthGuard } from '../auth/cache-auth.guard';
import { CurrentPrincipal, type CachePrincipal } from '../auth/cache-principal';
import { TeamStatus } from '../teams/team.entity';
import { CACHE_ROUTE_PREFIXES } from './cache-routes';

/** GET /v8/artifacts/status: turbo shows it in its banner once per run. */
@Controller(CACHE_ROUTE_PREFIXES)
@UseGuards(CacheAuthGuard)
export class CacheStatusController {
  @Get('status')
  @AllowPausedTeam()
  status(@CurrentPrincipal() principal: CachePrincipal) {
    return { status: principal.teamStatus === TeamStatus.Paused ? 'paused' : 'enabled' };
  }
}
