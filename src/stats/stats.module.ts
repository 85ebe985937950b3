import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module';
import { CacheRequestCountsRepository } from './cache-request-counts.repository';
import { StatsService } from './stats.service';

/**
 * Team statistics from usage events, artifact metadata and the server's request counts (admin
 * API, CLI, admin UI).
 */
@Module({
  imports: [TeamsModule],
  providers: [StatsService, CacheRequestCountsRepository],
  exports: [StatsService],
})
export class StatsModule {}
