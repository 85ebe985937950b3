import request from 'supertest';
import { createTestApp, TestApp } from '../support/test-app';

interface RouteLayer {
  route?: { path: unknown; methods: Record<string, boolean> };
}

type Operation = { summary?: string; security?: Record<string, string[]>[] };
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};

/** `METHOD /path/{param}` of every route the HTTP server really serves, but the docs' own. */
function servedRoutes(t: TestApp): string[] {
  const app = t.app.getHttpAdapter().getInstance() as { router: { stack: RouteLayer[] } };
  const routes = new Set<string>();
  for (const { route } of app.router.stack) {
    // Nest mounts module middleware as catch-all routes; the docs serve themselves.
    if (!route || typeof route.path !== 'string' || route.path.includes('*')) continue;
    if (route.path === '/docs' || route.path.startsWith('/docs/') || route.path === '/docs-json') {
      continue;
    }
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const method of Object.keys(route.methods)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return [...routes].sort();
}

function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, operations]) =>
      Object.keys(operations).map((m) => `${m.toUpperCase()} ${path}`),
    )
    .sort();
}

describe('OpenAPI document and UI', () => {
  let t: TestApp;
  let document: OpenApiDocument;
  beforeAll(async () => {
    t = await createTestApp();
    document = (await request(t.server).get('/docs-json').expect(200)).body;
  });
  afterAll(() => t.close());

  it('serves an OpenAPI 3 document at /docs-json without a token', () => {
    expect(document.openapi).toMatch(/^3\./);
  });

  it('lists every route of the cache, admin, health and metrics APIs', () => {
    const documented = documentedRoutes(document);
    for (const prefix of ['/v8/artifacts', '/artifacts']) {
      expect(documented).toEqual(
        expect.arrayContaining([
          `GET ${prefix}/status`,
          `GET ${prefix}/{hash}`,
          `HEAD ${prefix}/{hash}`,
          `PUT ${prefix}/{hash}`,
          `POST ${prefix}`,
          `POST ${prefix}/events`,
        ]),
      );
    }
    expect(documented).toEqual(
      expect.arrayContaining([
        'POST /admin/teams',
        'GET /admin/teams',
        'GET /admin/teams/{team}',
        'POST /admin/teams/{team}/pause',
        'POST /admin/teams/{team}/resume',
        'POST /admin/teams/{team}/rotate-key',
        'POST /admin/teams/{team}/tokens',
        'GET /admin/teams/{team}/tokens',
        'DELETE /admin/tokens/{tokenId}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ]),
    );
  });

  it('documents exactly the routes the server serves', () => {
    expect(documentedRoutes(document)).toEqual(servedRoutes(t));
  });

  it('declares the bearer schemes and puts the cache and admin routes behind them', () => {
    expect(document.components.securitySchemes).toMatchObject({
      'cache-token': { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      // Static secrets, not JWTs.
      'admin-token': { type: 'http', scheme: 'bearer', bearerFormat: 'opaque' },
      'metrics-token': { type: 'http', scheme: 'bearer', bearerFormat: 'opaque' },
    });
    const put = document.paths['/v8/artifacts/{hash}'].put;
    expect(put.summary).toBeTruthy();
    expect(put.security).toEqual([{ 'cache-token': [] }]);
    expect(document.paths['/admin/teams'].post.security).toEqual([{ 'admin-token': [] }]);
    expect(document.paths['/healthz'].get.security).toBeUndefined();
  });

  it('documents the upload headers, the binary body and the error shape', () => {
    const put = document.paths['/v8/artifacts/{hash}'].put as Operation & {
      parameters: { name: string; in: string }[];
      requestBody: { content: Record<string, unknown> };
      responses: Record<string, unknown>;
    };
    const headers = put.parameters.filter((p) => p.in === 'header').map((p) => p.name);
    expect(headers).toEqual(
      expect.arrayContaining(['content-length', 'x-artifact-duration', 'x-artifact-tag']),
    );
    expect(Object.keys(put.requestBody.content)).toEqual(['application/octet-stream']);
    expect(Object.keys(put.responses)).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '411', '413', '429', '503']),
    );
  });

  it('serves the Swagger UI as HTML at /docs', async () => {
    const res = await request(t.server).get('/docs').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('swagger-ui');
    await request(t.server).get('/docs/swagger-ui-init.js').expect(200);
  });
});
