import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module';
import { ArtifactPurgeService } from './artifact-purge.service';
import { ArtifactReaper } from './artifact-reaper';
import { QuotaService } from './quota.service';
import { TeamDeletionService } from './team-deletion.service';
import { TeamPolicyService } from './team-policy.service';

/**
 * Keeping the cache within its budget: per-team retention and quota policy, the upload quota
 * check (QUOTA_MODE=reject), manual purges and team deletion (used by the server and the CLI).
 * Needs the global BLOB_STORAGE (StorageModule). The background sweeper is RetentionSweepModule.
 */
@Module({
  imports: [TeamsModule],
  providers: [
    ArtifactReaper,
    QuotaService,
    TeamPolicyService,
    ArtifactPurgeService,
    TeamDeletionService,
  ],
  exports: [
    ArtifactReaper,
    QuotaService,
    TeamPolicyService,
    ArtifactPurgeService,
    TeamDeletionService,
  ],
})
export class RetentionModule {}
