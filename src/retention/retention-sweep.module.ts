import { Module } from '@nestjs/common';
import { RetentionModule } from './retention.module';
import { RetentionSweeper } from './retention-sweeper';

/** The background retention sweeper: imported by the server only, never by the CLI. */
@Module({
  imports: [RetentionModule],
  providers: [RetentionSweeper],
  exports: [RetentionSweeper],
})
export class RetentionSweepModule {}
