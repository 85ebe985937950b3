import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';
import { AuthLookups } from './auth-lookups';
import { CacheAuthGuard } from './cache-auth.guard';
import { CacheJwtStrategy } from './cache-jwt.strategy';
import { resolveJwtSecret } from './jwt-secret';
import { JWT_SIGNING_SECRET, TokenSigner } from './token-signer';
import { TokenUsageRecorder } from './token-usage.recorder';
import { VerifiedTokens } from './verified-tokens';

/**
 * Cache token signing and verification. Import it where a controller uses
 * @UseGuards(CacheAuthGuard); TokenSigner is for the module that issues tokens.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Team, Token]), RateLimitModule],
  providers: [
    {
      provide: JWT_SIGNING_SECRET,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => resolveJwtSecret(config),
    },
    TokenSigner,
    AuthLookups,
    TokenUsageRecorder,
    CacheJwtStrategy,
    VerifiedTokens,
    CacheAuthGuard,
  ],
  exports: [TokenSigner, CacheJwtStrategy, CacheAuthGuard, VerifiedTokens],
})
export class AuthModule {}
