import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';
import { ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './oidc-exchange.service';

/** OpenAPI documentation of the OIDC exchange routes (no bearer: the CI token is the credential). */
export const ApiOidcRoutes = () => applyDecorators(ApiTags('oidc'), ApiErrors(400, 429, 503));

export const ApiExchange = () =>
  applyDecorators(
    ApiOperation({
      summary:
        "exchange a CI job's OIDC token for a short-lived cache token (RFC 8693), by the team's trust policies",
    }),
    ApiConsumes('application/x-www-form-urlencoded', 'application/json'),
    ApiBody({
      schema: {
        type: 'object',
        required: ['grant_type', 'subject_token_type', 'subject_token', 'team'],
        properties: {
          grant_type: { type: 'string', enum: [TOKEN_EXCHANGE_GRANT] },
          subject_token_type: { type: 'string', enum: [ID_TOKEN_TYPE] },
          subject_token: { type: 'string', description: "the CI job's OIDC token (a JWT)" },
          team: { type: 'string', description: 'slug or team id' },
          policy: { type: 'string', description: 'a policy name or id, when several could match' },
        },
      },
    }),
    ApiResponse({
      status: 200,
      schema: {
        type: 'object',
        properties: {
          access_token: { type: 'string', description: 'TURBO_TOKEN' },
          issued_token_type: { type: 'string', enum: [ACCESS_TOKEN_TYPE] },
          token_type: { type: 'string', enum: ['Bearer'] },
          expires_in: { type: 'integer', description: 'seconds' },
          team: { type: 'string', description: "the team's slug (TURBO_TEAM)" },
          tier: { type: 'string', enum: ['trusted', 'untrusted'] },
          access: { type: 'string', enum: ['read-write', 'read-only'] },
          scope: { type: 'string', description: 'the overlay scope (untrusted only)' },
          policy: { type: 'string', description: 'the policy that matched' },
        },
      },
    }),
    ApiErrors(401, 404),
  );

export const ApiRevoke = () =>
  applyDecorators(
    ApiOperation({
      summary:
        'revoke a cache token (RFC 7009): refused everywhere within 2 s; an invalid token is answered alike',
    }),
    ApiConsumes('application/x-www-form-urlencoded', 'application/json'),
    ApiBody({
      schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } },
    }),
    ApiResponse({ status: 200, schema: { type: 'object' } }),
  );
