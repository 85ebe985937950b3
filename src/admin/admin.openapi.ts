import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { TokenScope } from '../tokens/token-scope';
import { ApiErrors } from '../openapi/api-errors';
import { ADMIN_TOKEN_AUTH } from '../openapi/openapi';
import { TEAM_SLUG } from '../teams/team-ref';
import { OVERLAY_SCOPE_PATTERN, TrustTier } from '../trust/trust-tier';

/** OpenAPI documentation of the admin API; `{team}` is a slug or a team id. */

const TEAM_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'team_...' },
    slug: { type: 'string' },
    name: { type: 'string' },
    status: { type: 'string', enum: ['enabled', 'paused'] },
    keyVersion: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

const TOKEN_SCOPE = { type: 'string', enum: Object.values(TokenScope) };
const TOKEN_TIER = {
  type: 'string',
  enum: Object.values(TrustTier),
  description:
    'trusted: reads and writes the trusted namespace; untrusted: reads trusted entries first, then its overlay, and writes only its overlay',
};
const OVERLAY_SCOPE = {
  type: 'string',
  pattern: OVERLAY_SCOPE_PATTERN.source,
  description: "an untrusted token's overlay (default token-<id>)",
};
/** In token views: only untrusted tokens carry tier and overlayScope (a trusted token's view is unchanged). */
const VIEW_TIER = {
  tier: {
    type: 'string',
    enum: [TrustTier.Untrusted],
    description: 'present only on untrusted tokens; absent: trusted',
  },
  overlayScope: { ...OVERLAY_SCOPE, description: 'present only on untrusted tokens' },
};

const TOKEN_VIEW_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    team: { type: 'string', description: 'team id' },
    name: { type: 'string', nullable: true },
    scope: TOKEN_SCOPE,
    ...VIEW_TIER,
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', nullable: true },
    lastUsedAt: { type: 'string', format: 'date-time', nullable: true },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
  },
};

/** Class level: ADMIN_TOKEN as bearer; 404 on every route while ADMIN_TOKEN is unset. */
export const ApiAdminRoutes = () =>
  applyDecorators(ApiTags('admin'), ApiBearerAuth(ADMIN_TOKEN_AUTH), ApiErrors(401, 404, 429, 503));

/** An admin operation answering a team (or a list of them with `list`). */
export const ApiTeamOperation = (
  summary: string,
  options: { status?: number; list?: boolean } = {},
) =>
  applyDecorators(
    ApiOperation({ summary }),
    ApiResponse({
      status: options.status ?? 200,
      description: options.list ? 'the teams' : 'the team',
      schema: options.list ? { type: 'array', items: TEAM_SCHEMA } : TEAM_SCHEMA,
    }),
  );

export const ApiCreateTeamBody = () =>
  applyDecorators(
    ApiBody({
      schema: {
        type: 'object',
        required: ['slug'],
        properties: {
          slug: { type: 'string', pattern: TEAM_SLUG.source },
          name: { type: 'string', minLength: 1, maxLength: 100 },
        },
      },
    }),
    ApiErrors(400, 409),
  );

export const ApiIssueToken = () =>
  applyDecorators(
    ApiOperation({ summary: 'issue a cache token for the team (the only time it is shown)' }),
    ApiBody({
      required: false,
      schema: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          readOnly: { type: 'boolean' },
          expiresIn: { type: 'string', example: '90d' },
          tier: { ...TOKEN_TIER, default: 'trusted' },
          overlayScope: { ...OVERLAY_SCOPE, example: 'pr-123' },
        },
      },
    }),
    ApiResponse({
      status: 201,
      schema: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          token: { type: 'string' },
          team: { type: 'string', description: 'team id' },
          scope: TOKEN_SCOPE,
          ...VIEW_TIER,
          expiresAt: { type: 'string', format: 'date-time', nullable: true },
        },
      },
    }),
    ApiErrors(400),
  );

export const ApiListTokens = () =>
  applyDecorators(
    ApiOperation({ summary: "the team's tokens, without their secrets" }),
    ApiResponse({ status: 200, schema: { type: 'array', items: TOKEN_VIEW_SCHEMA } }),
  );

export const ApiRevokeToken = () =>
  applyDecorators(
    ApiOperation({ summary: 'revoke a token (effective within seconds on every replica)' }),
    ApiResponse({ status: 200, schema: TOKEN_VIEW_SCHEMA }),
    ApiErrors(400),
  );
