import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { ArtifactFastPath } from './artifact-fast-path';
import { ArtifactStoreModule } from './artifact-store.module';
import { ArtifactAccessRecorder } from './artifact-access.recorder';
import { Artifact } from './artifact.entity';
import { ArtifactsController } from './artifacts.controller';
import { ArtifactsService } from './artifacts.service';
import { CacheStatusController } from './cache-status.controller';
import { VanishedBlobRepair } from './vanished-blob.repair';

@Module({
  imports: [
    TypeOrmModule.forFeature([Artifact]),
    AuthModule,
    RateLimitModule,
    MetricsModule,
    ArtifactStoreModule,
  ],
  // Status first: GET /v8/artifacts/status must match before GET /v8/artifacts/:hash.
  controllers: [CacheStatusController, ArtifactsController],
  providers: [ArtifactsService, ArtifactAccessRecorder, VanishedBlobRepair, ArtifactFastPath],
  exports: [ArtifactsService, ArtifactFastPath],
})
export class ArtifactsModule {}
