import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Bearer schemes of the document; controllers refer to them by these names. */
export const CACHE_TOKEN_AUTH = 'cache-token';
export const ADMIN_TOKEN_AUTH = 'admin-token';
export const METRICS_TOKEN_AUTH = 'metrics-token';

export const DOCS_PATH = 'docs';

/**
 * Serves the OpenAPI document generated from the controllers' decorators at /docs-json and the
 * Swagger UI at /docs. The document is built on first request, once every module is ready.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('teamcache')
    .setDescription(
      'Self-hosted, multi-tenant Turborepo remote cache: the Remote Cache API turbo calls ' +
        '(at /v8/artifacts and /artifacts), the admin API, health and metrics.',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'a cache token issued for a team',
      },
      CACHE_TOKEN_AUTH,
    )
    // The admin and metrics tokens are static secrets of the operator's choosing, not JWTs
    // (addBearerAuth would say JWT by default).
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'ADMIN_TOKEN' },
      ADMIN_TOKEN_AUTH,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'opaque',
        description: 'METRICS_TOKEN, when set',
      },
      METRICS_TOKEN_AUTH,
    )
    .build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    raw: ['json'],
    customSiteTitle: 'teamcache API',
  });
}
