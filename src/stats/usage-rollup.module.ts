import { Module } from '@nestjs/common';
import { UsageRollupJob } from './usage-rollup.job';
import { UsageRollupsRepository } from './usage-rollups.repository';

/** The background upkeep of the usage statistics. Imported by the server only, never by the CLI. */
@Module({
  providers: [UsageRollupJob, UsageRollupsRepository],
  exports: [UsageRollupJob],
})
export class UsageRollupModule {}
