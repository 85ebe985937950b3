import { Module } from '@nestjs/common';
import { UsageDailyArtifactsRepository } from './usage-daily-artifacts.repository';
import { UsageRetention } from './usage-retention';
import { UsageRollupJob } from './usage-rollup.job';
import { UsageRollupsRepository } from './usage-rollups.repository';

/**
 * The background upkeep of the usage statistics: the rollup job, and the pruning of raw events
 * and old rollups that the retention sweep runs. Imported by the server only, never by the CLI.
 */
@Module({
  providers: [
    UsageRollupJob,
    UsageRollupsRepository,
    UsageDailyArtifactsRepository,
    UsageRetention,
  ],
  exports: [UsageRollupJob, UsageRetention],
})
export class UsageRollupModule {}
