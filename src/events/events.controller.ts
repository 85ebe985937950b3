import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CacheAuthGuard } from '../auth/cache-auth.guard';
import { CurrentPrincipal, type CachePrincipal } from '../auth/cache-principal';
import { ApiCacheRoutes } from '../artifacts/artifacts.openapi';
import { CACHE_ROUTE_PREFIXES } from '../http/cache-routes';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import { ApiRecordEvents } from './events.openapi';
import { EventsService } from './events.service';
import { UsageEventBatchPipe, type UsageEventBatch } from './usage-event-batch.pipe';

const MAX_CLIENT_CI = PROTOCOL_LIMITS.clientCiLength;

/**
 * POST /v8/artifacts/events: turbo's HIT/MISS reports, the source of a team's hit rate. Always
 * 200 `{}` for an array of at most MAX_EVENTS_PER_BATCH items; malformed events are skipped
 * (UsageEventBatchPipe).
 */
@Controller(CACHE_ROUTE_PREFIXES)
@UseGuards(CacheAuthGuard)
@ApiCacheRoutes()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post('events')
  @ApiRecordEvents()
  @HttpCode(200)
  async record(
    @Body(new UsageEventBatchPipe()) batch: UsageEventBatch,
    @Headers('x-artifact-client-ci') clientCi: string | undefined,
    @CurrentPrincipal() principal: CachePrincipal,
  ) {
    const ci = clientCi ? clientCi.slice(0, MAX_CLIENT_CI) : null;
    await this.events.record(principal.teamId, batch, ci);
    return {};
  }
}
