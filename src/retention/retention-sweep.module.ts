import { Module } from '@nestjs/common';
import { ArtifactStoreModule } from '../artifacts/artifact-store.module';
import { UsageRollupModule } from '../stats/usage-rollup.module';
import { RetentionModule } from './retention.module';
import { RetentionSweeper } from './retention-sweeper';

/** The background retention sweeper: imported by the server only, never by the CLI. */
@Module({
  imports: [RetentionModule, ArtifactStoreModule, UsageRollupModule],
  providers: [RetentionSweeper],
  exports: [RetentionSweeper],
})
export class RetentionSweepModule {}
