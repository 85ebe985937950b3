import { Module } from '@nestjs/common';
import { ArtifactStoreModule } from '../artifacts/artifact-store.module';
import { TeamsModule } from '../teams/teams.module';
import { ArtifactPurgeService } from './artifact-purge.service';
import { ArtifactReaper } from './artifact-reaper';
import { TeamDeletionService } from './team-deletion.service';
import { TeamPolicyService } from './team-policy.service';

/**
 * Keeping the cache within its budget: per-team retention and quota policy, manual purges and
 * team deletion (used by the server and the CLI; the upload quota check is the artifacts' own).
 * Needs the global BLOB_STORAGE (StorageModule). The background sweeper is RetentionSweepModule.
 */
@Module({
  imports: [TeamsModule, ArtifactStoreModule],
  providers: [ArtifactReaper, TeamPolicyService, ArtifactPurgeService, TeamDeletionService],
  exports: [ArtifactReaper, TeamPolicyService, ArtifactPurgeService, TeamDeletionService],
})
export class RetentionModule {}
