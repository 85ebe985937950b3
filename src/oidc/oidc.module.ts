import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { TeamsModule } from '../teams/teams.module';
import { TokensModule } from '../tokens/tokens.module';
import { OidcIssuerKeys } from './issuer-keys';
import { OidcController } from './oidc.controller';
import { OidcExchangeService } from './oidc-exchange.service';
import { OidcPolicy } from './oidc-policy.entity';
import { OidcRevocation } from './oidc-revocation.service';
import { TrustPoliciesService } from './trust-policies.service';

/** Trust policy administration (admin API, CLI, and the exchange's lookups). */
@Module({
  imports: [TypeOrmModule.forFeature([OidcPolicy]), TeamsModule],
  providers: [TrustPoliciesService],
  exports: [TrustPoliciesService],
})
export class TrustPoliciesModule {}

/** CI identity (issue 17): the OIDC token exchange and revocation, on the cache listener. */
@Module({
  imports: [TrustPoliciesModule, TeamsModule, TokensModule, AuthModule, RateLimitModule],
  controllers: [OidcController],
  providers: [OidcIssuerKeys, OidcExchangeService, OidcRevocation],
})
export class OidcModule {}
