import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';
import { TokensModule } from '../tokens/tokens.module';
import { CacheAuthGuard } from './cache-auth.guard';
import { CacheAuthService } from './cache-auth.service';
import { TokenUsageRecorder } from './token-usage.recorder';

/**
 * Who may use the cache routes: CacheAuthService (for every frontend) and CacheAuthGuard (for
 * Nest controllers: import this module where a controller uses @UseGuards(CacheAuthGuard)).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Team, Token]), RateLimitModule, TokensModule],
  providers: [TokenUsageRecorder, CacheAuthService, CacheAuthGuard],
  exports: [CacheAuthService, CacheAuthGuard],
})
export class AuthModule {}
