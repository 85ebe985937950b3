import { Module } from '@nestjs/common';
import { TeamsModule } from '../teams/teams.module';
import { TokensModule } from '../tokens/tokens.module';
import { AdminTeamsController } from './admin-teams.controller';
import { AdminTokensController } from './admin-tokens.controller';
import { AdminTokenGuard } from './admin-token.guard';

/** The admin HTTP API under /admin, enabled by ADMIN_TOKEN (see AdminTokenGuard). */
@Module({
  imports: [TeamsModule, TokensModule],
  controllers: [AdminTeamsController, AdminTokensController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
