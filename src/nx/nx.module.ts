import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { AuthModule } from '../auth/auth.module';
import { CacheRequestCountsRepository } from '../stats/cache-request-counts.repository';
import { NxCacheFrontend } from './nx-cache.frontend';
import { NxUsageRecorder } from './nx-usage.recorder';

/**
 * The Nx self-hosted cache API (NxCacheFrontend), installed in front of Nest by app.factory,
 * and the server-side count of its requests (NxUsageRecorder).
 */
@Module({
  imports: [ArtifactsModule, AuthModule],
  providers: [NxCacheFrontend, NxUsageRecorder, CacheRequestCountsRepository],
  exports: [NxCacheFrontend, NxUsageRecorder],
})
export class NxModule {}
