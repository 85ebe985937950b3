import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';
import { METRICS_TOKEN_AUTH } from '../openapi/openapi';

/** OpenAPI documentation of GET /metrics. */
export const ApiMetricsScrape = () =>
  applyDecorators(
    ApiTags('operations'),
    ApiBearerAuth(METRICS_TOKEN_AUTH),
    ApiOperation({ summary: 'Prometheus metrics (text format)' }),
    ApiProduces('text/plain'),
    ApiResponse({ status: 200, schema: { type: 'string' } }),
    ApiErrors(401),
  );
