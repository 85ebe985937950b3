import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { clientAddress } from '../rate-limit/auth-failure.limiter';
import { OidcExchangeService, type ExchangeRequest } from './oidc-exchange.service';
import { OidcRevocation } from './oidc-revocation.service';
import { ApiExchange, ApiOidcRoutes, ApiRevoke } from './oidc.openapi';

/**
 * CI identity (issue 17), on the cache listener: POST /oidc/token exchanges a CI job's OIDC
 * token for a short-lived cache token (RFC 8693 form, application/x-www-form-urlencoded or
 * JSON), POST /oidc/revoke revokes a cache token (RFC 7009: `token=`; always 200).
 */
@Controller('oidc')
@ApiOidcRoutes()
export class OidcController {
  constructor(
    private readonly exchanges: OidcExchangeService,
    private readonly revocations: OidcRevocation,
  ) {}

  @Post('token')
  @ApiExchange()
  @HttpCode(200)
  exchange(@Body() body: ExchangeRequest | undefined, @Req() request: Request) {
    return this.exchanges.exchange(body ?? {}, clientAddress(request));
  }

  @Post('revoke')
  @ApiRevoke()
  @HttpCode(200)
  async revoke(@Body() body: { token?: unknown } | undefined, @Req() request: Request) {
    await this.revocations.revoke(body?.token, clientAddress(request));
    return {};
  }
}
