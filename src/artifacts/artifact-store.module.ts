import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module';
import { ArtifactVerifier } from './artifact-verifier';
import { ArtifactsRepository } from './artifacts.repository';
import { BlobCollector } from './blob-collector';
import { BlobGarbageRepository } from './blob-garbage.repository';
import { QuotaService } from './quota.service';

/**
 * Artifact rows and their stored bodies below any protocol: the repositories of the artifacts
 * and blob_garbage tables, the quota check, the collection of superseded and
 * orphan bodies, and `artifacts verify`. Used by the server (ArtifactsModule)
 * and by the CLI. Needs the global StorageModule.
 */
@Module({
  imports: [TeamsModule],
  providers: [
    ArtifactsRepository,
    BlobGarbageRepository,
    BlobCollector,
    ArtifactVerifier,
    QuotaService,
  ],
  exports: [
    ArtifactsRepository,
    BlobGarbageRepository,
    BlobCollector,
    ArtifactVerifier,
    QuotaService,
  ],
})
export class ArtifactStoreModule {}
