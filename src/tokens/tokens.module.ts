import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TeamsModule } from '../teams/teams.module';
import { resolveJwtSecret } from './jwt-secret';
import { Token } from './token.entity';
import { JWT_SIGNING_SECRET, TokenSigner } from './token-signer';
import { TokensService } from './tokens.service';

/** Cache tokens: their records, issuing and revoking them, and the keys they are signed with. */
@Module({
  imports: [TypeOrmModule.forFeature([Token]), TeamsModule],
  providers: [
    {
      provide: JWT_SIGNING_SECRET,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => resolveJwtSecret(config),
    },
    TokenSigner,
    TokensService,
  ],
  exports: [TokensService, TokenSigner],
})
export class TokensModule {}
