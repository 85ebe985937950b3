import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';

/** OpenAPI documentation of /healthz and /readyz (no token). */
export const ApiHealthRoutes = () => ApiTags('health');

export const ApiLiveness = () =>
  applyDecorators(
    ApiOperation({ summary: 'liveness: the process runs' }),
    ApiResponse({ status: 200, schema: { example: { status: 'ok' } } }),
  );

export const ApiReadiness = () =>
  applyDecorators(
    ApiOperation({ summary: 'readiness: PostgreSQL and the blob storage answer' }),
    ApiResponse({ status: 200, description: 'ready (terminus health check result)' }),
    ApiErrors(503),
  );
