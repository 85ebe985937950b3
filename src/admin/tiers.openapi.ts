import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';
import { OVERLAY_SCOPE_PATTERN } from '../trust/trust-tier';

/** OpenAPI documentation of the trust-tier admin routes (provenance, scopes, tier settings). */

const TIER = { type: 'string', enum: ['trusted', 'untrusted'] };
const nullableDate = { type: 'string', format: 'date-time', nullable: true };

const VERSION_SCHEMA = {
  type: 'object',
  properties: {
    tool: { type: 'string', enum: ['turbo', 'nx'] },
    hash: { type: 'string', description: 'as the tool knows it' },
    tier: { ...TIER, description: 'trusted: the trusted namespace; untrusted: an overlay' },
    scope: { type: 'string', nullable: true, description: "the overlay's scope" },
    visibleTo: { type: 'string' },
    size: { type: 'integer' },
    contentSha256: { type: 'string', nullable: true },
    writer: {
      type: 'object',
      properties: {
        tokenId: { type: 'string', format: 'uuid', nullable: true },
        tokenName: { type: 'string', nullable: true },
        tier: TIER,
        revokedAt: nullableDate,
      },
      description: 'null token id: written before trust tiers recorded writers',
    },
    gitSha: { type: 'string', nullable: true, description: "the client's x-artifact-sha" },
    ci: { type: 'string', nullable: true, description: "the client's x-artifact-client-ci" },
    storedAt: { type: 'string', format: 'date-time' },
    lastAccessedAt: { type: 'string', format: 'date-time' },
    hits: { type: 'integer' },
  },
};

const VERSIONS = {
  team: { type: 'string', description: 'team id' },
  slug: { type: 'string' },
  versions: { type: 'array', items: VERSION_SCHEMA },
};

export const ApiShowArtifact = () =>
  applyDecorators(
    ApiOperation({
      summary:
        'every stored version of a hash (trusted and per overlay, turbo and Nx), with its writer and who reads it',
    }),
    ApiResponse({ status: 200, schema: { type: 'object', properties: VERSIONS } }),
    ApiErrors(400),
  );

export const ApiListArtifacts = () =>
  applyDecorators(
    ApiOperation({ summary: "a page of the team's stored versions, by writer or namespace" }),
    ApiQuery({ name: 'writer', required: false, description: 'a token id: what it wrote' }),
    ApiQuery({
      name: 'scope',
      required: false,
      description: '"trusted" or an overlay\'s scope: what that namespace holds',
    }),
    ApiQuery({ name: 'limit', required: false, description: '1 to 1000 (default 100)' }),
    ApiQuery({ name: 'after', required: false, description: 'the `next` of the previous page' }),
    ApiResponse({
      status: 200,
      schema: {
        type: 'object',
        properties: { ...VERSIONS, next: { type: 'string', nullable: true } },
      },
    }),
    ApiErrors(400),
  );

export const ApiListScopes = () =>
  applyDecorators(
    ApiOperation({ summary: "the team's overlay scopes: their untrusted tokens and entries" }),
    ApiResponse({
      status: 200,
      schema: {
        type: 'object',
        properties: {
          team: { type: 'string' },
          slug: { type: 'string' },
          scopes: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                scope: { type: 'string' },
                artifacts: { type: 'integer' },
                bytes: { type: 'integer' },
                lastUploadAt: nullableDate,
                tokens: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: 'string', format: 'uuid' },
                      name: { type: 'string', nullable: true },
                      revokedAt: nullableDate,
                    },
                  },
                },
              },
            },
          },
        },
      },
    }),
  );

export const ApiDeleteScope = () =>
  applyDecorators(
    ApiOperation({
      summary:
        'delete an overlay scope: revoke its tokens, then purge its entries (rows, then blobs)',
    }),
    ApiResponse({
      status: 200,
      schema: {
        type: 'object',
        properties: {
          team: { type: 'string' },
          slug: { type: 'string' },
          scope: { type: 'string', pattern: OVERLAY_SCOPE_PATTERN.source },
          revokedTokens: { type: 'array', items: { type: 'string', format: 'uuid' } },
          uploadedBefore: { type: 'string', format: 'date-time' },
          artifacts: { type: 'integer' },
          bytes: { type: 'integer' },
          blobFailures: { type: 'integer' },
        },
      },
    }),
    ApiErrors(400),
  );

const TIER_SETTINGS = {
  type: 'object',
  properties: {
    team: { type: 'string' },
    slug: { type: 'string' },
    overlayRetentionDays: {
      type: 'integer',
      description: "capped by the team's retention",
    },
    overlayRetentionSetting: { type: 'integer', description: 'as set, before the cap' },
    overlayRetentionSource: { type: 'string', enum: ['team', 'default'] },
    trustedEntries: { type: 'string', enum: ['replaceable', 'immutable'] },
    overlays: {
      type: 'object',
      properties: {
        scopes: { type: 'integer' },
        artifacts: { type: 'integer' },
        bytes: { type: 'integer' },
      },
    },
  },
};

export const ApiGetTierSettings = () =>
  applyDecorators(
    ApiOperation({ summary: "the team's overlay retention and trusted-entries mode" }),
    ApiResponse({ status: 200, schema: TIER_SETTINGS }),
  );

export const ApiSetTierSettings = () =>
  applyDecorators(
    ApiOperation({
      summary:
        'set overlay retention (days or "default") and trusted entries (replaceable or immutable: first trusted write wins)',
    }),
    ApiBody({
      schema: {
        type: 'object',
        properties: {
          overlayRetentionDays: { oneOf: [{ type: 'integer', minimum: 1 }, { enum: ['default'] }] },
          trustedEntries: { type: 'string', enum: ['replaceable', 'immutable'] },
        },
      },
    }),
    ApiResponse({ status: 200, schema: TIER_SETTINGS }),
    ApiErrors(400),
  );
