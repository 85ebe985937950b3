import {
  Body,
  Controller,
  Headers,
  HttpCode,
  ParseArrayPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import { CacheAuthGuard } from '../auth/cache-auth.guard';
import { CurrentPrincipal, type CachePrincipal } from '../auth/cache-principal';
import { AppException } from '../common/app-exception';
import { ArrayLimitPipe } from '../common/array-limit.pipe';
import { ApiCacheRoutes } from '../artifacts/artifacts.openapi';
import { CACHE_ROUTE_PREFIXES } from '../artifacts/cache-routes';
import { ApiRecordEvents } from './events.openapi';
import { EventsService } from './events.service';
import { MAX_EVENTS_PER_BATCH, UsageEventDto } from './usage-event.dto';

const MAX_CLIENT_CI = 50;

/** POST /v8/artifacts/events: turbo's HIT/MISS reports, the source of a team's hit rate. */
@Controller(CACHE_ROUTE_PREFIXES)
@UseGuards(CacheAuthGuard)
@ApiCacheRoutes()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post('events')
  @ApiRecordEvents()
  @HttpCode(200)
  async record(
    @Body(
      new ArrayLimitPipe(
        MAX_EVENTS_PER_BATCH,
        `at most ${MAX_EVENTS_PER_BATCH} events per request`,
      ),
      new ParseArrayPipe({
        items: UsageEventDto,
        whitelist: true,
        forbidNonWhitelisted: true,
        exceptionFactory: (message) =>
          AppException.badRequest(Array.isArray(message) ? message.join('; ') : String(message)),
      }),
    )
    batch: UsageEventDto[],
    @Headers('x-artifact-client-ci') clientCi: string | undefined,
    @CurrentPrincipal() principal: CachePrincipal,
  ) {
    if (batch.length > MAX_EVENTS_PER_BATCH) {
      throw AppException.badRequest(`at most ${MAX_EVENTS_PER_BATCH} events per request`);
    }
    const ci = clientCi ? clientCi.slice(0, MAX_CLIENT_CI) : null;
    await this.events.record(principal.teamId, batch, ci);
    return {};
  }
}
