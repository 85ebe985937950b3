import { Body, Controller, Delete, Get, Param, Post, UseGuards } from '@nestjs/common';
import { strictValidation } from '../common/validation';
import { TokensService } from '../tokens/tokens.service';
import { IssueTokenDto } from './admin.dto';
import { ApiAdminRoutes, ApiIssueToken, ApiListTokens, ApiRevokeToken } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';

/** Cache token administration over HTTP; the token string appears only in the issue response. */
@Controller('admin')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminTokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post('teams/:team/tokens')
  @ApiIssueToken()
  issue(@Param('team') team: string, @Body(strictValidation()) body: IssueTokenDto) {
    return this.tokens.issue(team, body);
  }

  @Get('teams/:team/tokens')
  @ApiListTokens()
  list(@Param('team') team: string) {
    return this.tokens.list(team);
  }

  @Delete('tokens/:tokenId')
  @ApiRevokeToken()
  revoke(@Param('tokenId') tokenId: string) {
    return this.tokens.revoke(tokenId);
  }
}
