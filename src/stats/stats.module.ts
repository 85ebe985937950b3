import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module';
import { StatsService } from './stats.service';

/** Team statistics from usage events and artifact metadata (admin API, CLI, admin UI). */
@Module({
  imports: [TeamsModule],
  providers: [StatsService],
  exports: [StatsService],
})
export class StatsModule {}
