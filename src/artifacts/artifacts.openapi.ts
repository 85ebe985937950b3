import { applyDecorators } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';
import { CACHE_TOKEN_AUTH } from '../openapi/openapi';
import { ARTIFACT_HASH } from './artifact-hash.pipe';
import { MAX_QUERY_HASHES } from './query-artifacts.dto';

/** OpenAPI documentation of the Remote Cache routes (protocol.md), applied to their handlers. */

const HASH_PARAM = ApiParam({
  name: 'hash',
  description: 'the task hash turbo computed',
  schema: { type: 'string', pattern: ARTIFACT_HASH.source },
});

const ARTIFACT_HEADERS = {
  'x-artifact-duration': { description: 'task duration in ms', schema: { type: 'integer' } },
  'x-artifact-tag': {
    description: 'the client HMAC signature, as uploaded',
    schema: { type: 'string' },
  },
  'x-artifact-sha': { description: 'git HEAD sha, as uploaded', schema: { type: 'string' } },
  'x-artifact-dirty-hash': { description: 'as uploaded', schema: { type: 'string' } },
  'content-length': { description: 'artifact size in bytes', schema: { type: 'integer' } },
};

const SUMMARY_SCHEMA = {
  type: 'object',
  nullable: true,
  properties: {
    size: { type: 'integer' },
    taskDurationMs: { type: 'integer' },
    tag: { type: 'string' },
    sha: { type: 'string' },
    dirtyHash: { type: 'string' },
  },
};

/** Class level: every cache route takes a team token and may name the team in the query. */
export const ApiCacheRoutes = () =>
  applyDecorators(
    ApiTags('cache'),
    ApiBearerAuth(CACHE_TOKEN_AUTH),
    ApiQuery({ name: 'slug', type: String, required: false, description: "the token's team slug" }),
    ApiQuery({ name: 'teamId', type: String, required: false, description: "the token's team id" }),
    ApiErrors(400, 401, 403, 429, 503),
  );

export const ApiCacheStatus = () =>
  applyDecorators(
    ApiOperation({ summary: "the team's cache status (turbo's banner)" }),
    ApiResponse({
      status: 200,
      description: 'enabled or paused',
      schema: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['enabled', 'paused', 'disabled', 'over_limit'] },
        },
      },
    }),
  );

export const ApiUploadArtifact = () =>
  applyDecorators(
    ApiOperation({ summary: 'upload an artifact (streamed to storage)' }),
    HASH_PARAM,
    ApiConsumes('application/octet-stream'),
    ApiBody({ description: 'the artifact bytes', schema: { type: 'string', format: 'binary' } }),
    ApiHeader({ name: 'content-length', required: true, description: 'exact body size' }),
    ApiHeader({ name: 'x-artifact-duration', required: false, description: 'task duration in ms' }),
    ApiHeader({ name: 'x-artifact-tag', required: false, description: 'HMAC signature (<= 600)' }),
    ApiHeader({ name: 'x-artifact-sha', required: false, description: 'git HEAD sha' }),
    ApiHeader({ name: 'x-artifact-dirty-hash', required: false }),
    ApiHeader({ name: 'x-artifact-client-ci', required: false, description: 'CI name (<= 50)' }),
    ApiHeader({ name: 'x-artifact-client-interactive', required: false, description: '0 or 1' }),
    ApiResponse({
      status: 202,
      description: 'stored',
      schema: {
        type: 'object',
        properties: { urls: { type: 'array', items: { type: 'string' } } },
      },
    }),
    ApiErrors(411, 413),
  );

export const ApiArtifactExists = () =>
  applyDecorators(
    ApiOperation({ summary: 'whether an artifact exists (the GET headers, no body)' }),
    HASH_PARAM,
    ApiResponse({ status: 200, description: 'present', headers: ARTIFACT_HEADERS }),
    ApiErrors(404),
  );

export const ApiDownloadArtifact = () =>
  applyDecorators(
    ApiOperation({ summary: 'download an artifact: a hit (200) or a miss (404)' }),
    HASH_PARAM,
    ApiProduces('application/octet-stream'),
    ApiResponse({
      status: 200,
      description: 'the exact uploaded bytes',
      headers: ARTIFACT_HEADERS,
      schema: { type: 'string', format: 'binary' },
    }),
    ApiErrors(404),
  );

export const ApiQueryArtifacts = () =>
  applyDecorators(
    ApiOperation({ summary: 'look up many artifacts at once (turbo run --dry)' }),
    ApiBody({
      schema: {
        type: 'object',
        required: ['hashes'],
        properties: {
          hashes: {
            type: 'array',
            maxItems: MAX_QUERY_HASHES,
            items: { type: 'string', pattern: ARTIFACT_HASH.source },
          },
        },
      },
    }),
    ApiResponse({
      status: 200,
      description: 'every requested hash as a key: its summary, or null when absent',
      schema: { type: 'object', additionalProperties: SUMMARY_SCHEMA },
    }),
  );
