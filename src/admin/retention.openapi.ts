import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';

/** OpenAPI documentation of the retention, purge, deletion and statistics admin routes. */

const POLICY_SCHEMA = {
  type: 'object',
  properties: {
    team: { type: 'string', description: 'team id' },
    slug: { type: 'string' },
    retentionDays: { type: 'integer' },
    retentionSource: { type: 'string', enum: ['team', 'default'] },
    quotaBytes: { type: 'integer', nullable: true, description: 'null: no quota' },
    quotaSource: { type: 'string', enum: ['team', 'default'] },
    quotaMode: { type: 'string', enum: ['evict', 'reject'] },
    artifacts: { type: 'integer' },
    storedBytes: { type: 'integer' },
  },
};

const REMOVAL = {
  artifacts: { type: 'integer' },
  bytes: { type: 'integer' },
  blobFailures: { type: 'integer', description: 'blobs left behind (logged, never served)' },
};

export const ApiGetPolicy = () =>
  applyDecorators(
    ApiOperation({ summary: "the team's effective retention and quota, and its stored bytes" }),
    ApiResponse({ status: 200, schema: POLICY_SCHEMA }),
  );

export const ApiSetPolicy = () =>
  applyDecorators(
    ApiOperation({ summary: 'override the team\'s retention or quota ("default" resets)' }),
    ApiBody({
      schema: {
        type: 'object',
        properties: {
          retentionDays: { oneOf: [{ type: 'integer', minimum: 1 }, { enum: ['default'] }] },
          quota: {
            oneOf: [
              { type: 'integer', minimum: 1 },
              { type: 'string', example: '10GiB' },
              { enum: ['none', 'default'] },
            ],
          },
        },
      },
    }),
    ApiResponse({ status: 200, schema: POLICY_SCHEMA }),
    ApiErrors(400),
  );

export const ApiPurge = () =>
  applyDecorators(
    ApiOperation({
      summary:
        "delete the team's artifacts uploaded before olderThan (or all), optionally only one writer's or one namespace's",
    }),
    ApiBody({
      required: false,
      schema: {
        type: 'object',
        properties: {
          olderThan: { type: 'string', example: '7d' },
          writer: {
            type: 'string',
            format: 'uuid',
            description: 'only the versions this token wrote (not a later re-upload by another)',
          },
          scope: {
            type: 'string',
            example: 'pr-123',
            description: '"trusted" or an overlay\'s scope: only that namespace',
          },
          hash: {
            type: 'string',
            description: "only this hash's versions (turbo's, and Nx's when decimal)",
          },
        },
      },
    }),
    ApiResponse({
      status: 200,
      schema: {
        type: 'object',
        properties: {
          team: { type: 'string' },
          slug: { type: 'string' },
          uploadedBefore: { type: 'string', format: 'date-time' },
          writer: { type: 'string', format: 'uuid' },
          scope: { type: 'string' },
          hash: { type: 'string' },
          ...REMOVAL,
        },
      },
    }),
    ApiErrors(400),
  );

export const ApiDeleteTeam = () =>
  applyDecorators(
    ApiOperation({ summary: 'delete the team with its tokens, artifacts and usage events' }),
    ApiResponse({
      status: 200,
      schema: {
        type: 'object',
        properties: {
          team: { type: 'string' },
          slug: { type: 'string' },
          ...REMOVAL,
          tokens: { type: 'integer' },
          events: { type: 'integer' },
        },
      },
    }),
  );

export const ApiTeamStats = () =>
  applyDecorators(
    ApiOperation({
      summary: "the team's cache usage in a period: hits, misses, time saved, storage, daily",
    }),
    ApiQuery({ name: 'from', required: false, description: 'ISO date (default: to - 30 days)' }),
    ApiQuery({ name: 'to', required: false, description: 'ISO date, inclusive (default: now)' }),
    ApiResponse({ status: 200, description: 'the team statistics (docs/cli.md, Statistics)' }),
    ApiErrors(400),
  );
