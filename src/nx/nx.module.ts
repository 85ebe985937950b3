import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module';
import { AuthModule } from '../auth/auth.module';
import { NxCacheFrontend } from './nx-cache.frontend';

/** The Nx self-hosted cache API (NxCacheFrontend), installed in front of Nest by app.factory. */
@Module({
  imports: [ArtifactsModule, AuthModule],
  providers: [NxCacheFrontend],
  exports: [NxCacheFrontend],
})
export class NxModule {}
