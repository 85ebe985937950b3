import { Module } from '@nestjs/common';
import { AdminUiModule } from '../admin-ui/admin-ui.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { RetentionModule } from '../retention/retention.module';
import { StatsModule } from '../stats/stats.module';
import { TeamsModule } from '../teams/teams.module';
import { TokensModule } from '../tokens/tokens.module';
import { TrustAdminModule } from '../trust-admin/trust-admin.module';
import { TrustPoliciesModule } from '../oidc/oidc.module';
import { AdminOidcController } from './admin-oidc.controller';
import { AdminTiersController } from './admin-tiers.controller';
import { AdminRetentionController } from './admin-retention.controller';
import { AdminStatsController } from './admin-stats.controller';
import { AdminTeamsController } from './admin-teams.controller';
import { AdminTokensController } from './admin-tokens.controller';
import { AdminTokenGuard } from './admin-token.guard';

/** The admin HTTP API under /admin, enabled by ADMIN_TOKEN (see AdminTokenGuard). */
@Module({
  imports: [
    TeamsModule,
    TokensModule,
    RetentionModule,
    TrustAdminModule,
    TrustPoliciesModule,
    StatsModule,
    AdminUiModule,
    RateLimitModule,
  ],
  controllers: [
    AdminTeamsController,
    AdminTokensController,
    AdminRetentionController,
    AdminStatsController,
    AdminTiersController,
    AdminOidcController,
  ],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
