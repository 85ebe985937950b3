import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { StatsService } from '../stats/stats.service';
import { ApiAdminRoutes } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiTeamStats } from './retention.openapi';

/** GET /admin/teams/:team/stats?from=&to= (ISO dates; the last 30 days by default). */
@Controller('admin/teams')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminStatsController {
  constructor(private readonly stats: StatsService) {}

  @Get(':team/stats')
  @ApiTeamStats()
  teamStats(
    @Param('team') team: string,
    @Query('from') from: string | undefined,
    @Query('to') to: string | undefined,
  ) {
    return this.stats.teamStats(team, single(from), single(to));
  }
}

/** `?from=a&from=b` arrives as an array: a repeated parameter is refused by the date parser. */
function single(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
