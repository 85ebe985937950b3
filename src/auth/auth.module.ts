import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';
import { AuthLookups } from './auth-lookups';
import { CacheAuthGuard } from './cache-auth.guard';
import { CacheJwtStrategy } from './cache-jwt.strategy';
import { TokensModule } from '../tokens/tokens.module';
import { TokenUsageRecorder } from './token-usage.recorder';
import { VerifiedTokens } from './verified-tokens';

/** Cache token verification: import it where a controller uses @UseGuards(CacheAuthGuard). */
@Module({
  imports: [TypeOrmModule.forFeature([Team, Token]), RateLimitModule, TokensModule],
  providers: [AuthLookups, TokenUsageRecorder, CacheJwtStrategy, VerifiedTokens, CacheAuthGuard],
  exports: [CacheJwtStrategy, CacheAuthGuard, VerifiedTokens],
})
export class AuthModule {}
