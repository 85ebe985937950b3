import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module';
import { ArtifactStatsRepository } from './artifact-stats.repository';
import { CacheRequestCountsRepository } from './cache-request-counts.repository';
import { StatsService } from './stats.service';
import { UsageStatsRepository } from './usage-stats.repository';

/**
 * Team statistics from usage events, artifact metadata and the server's request counts (admin
 * API, CLI, admin UI).
 */
@Module({
  imports: [TeamsModule],
  providers: [
    StatsService,
    CacheRequestCountsRepository,
    UsageStatsRepository,
    ArtifactStatsRepository,
  ],
  exports: [StatsService],
})
export class StatsModule {}
