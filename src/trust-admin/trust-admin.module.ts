import { Module } from '@nestjs/common';
import { RetentionModule } from '../retention/retention.module';
import { TeamsModule } from '../teams/teams.module';
import { ArtifactAuditService } from './artifact-audit.service';
import { OverlayScopesService } from './overlay-scopes.service';
import { TierSettingsService } from './tier-settings.service';

/**
 * Administration of trust tiers (issue 16): provenance of stored versions, overlay scopes and
 * per-team tier settings, for the admin HTTP API and the CLI. Needs the global BLOB_STORAGE
 * (StorageModule), as RetentionModule does.
 */
@Module({
  imports: [TeamsModule, RetentionModule],
  providers: [ArtifactAuditService, OverlayScopesService, TierSettingsService],
  exports: [ArtifactAuditService, OverlayScopesService, TierSettingsService],
})
export class TrustAdminModule {}
