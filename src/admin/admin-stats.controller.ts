import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { StatsService } from '../stats/stats.service';
import { ApiAdminRoutes } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';
import { ApiTeamStats } from './retention.openapi';

const count = { type: 'integer' } as const;
const TOOL_USAGE = (countedBy: string, notCounted: string) => ({
  type: 'object',
  properties: {
    countedBy: { type: 'string', enum: [countedBy] },
    hits: count,
    misses: count,
    hitRate: { type: 'number', nullable: true, description: 'hits / (hits + misses)' },
    timeSavedMs: { type: 'integer', nullable: true, description: 'ms; null for nx' },
    uploads: count,
    refusedUploads: { type: 'integer', nullable: true, description: 'null for turbo' },
    storage: {
      type: 'object',
      properties: { artifacts: count, bytes: count },
      description: 'stored now, whatever the period',
    },
  },
  description: notCounted,
});

/** The `tools` split of the stats (StatsService TeamStats, ToolUsage); the rest: docs/http-api.md. */
const ApiToolSplit = () =>
  ApiOkResponse({
    description: '`tools`: the usage split by client tool',
    schema: {
      type: 'object',
      properties: {
        tools: {
          type: 'object',
          properties: {
            turbo: TOOL_USAGE(
              'client-events',
              "from turbo's usage events; uploads: artifacts uploaded in the period, still stored",
            ),
            nx: TOOL_USAGE(
              'server',
              'counted by the server per UTC day (Nx sends no events): GET 200/404, PUT 200/4xx',
            ),
          },
        },
      },
    },
  });

/** GET /admin/teams/:team/stats?from=&to= (ISO dates; the last 30 days by default). */
@Controller('admin/teams')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminStatsController {
  constructor(private readonly stats: StatsService) {}

  @Get(':team/stats')
  @ApiToolSplit()
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
