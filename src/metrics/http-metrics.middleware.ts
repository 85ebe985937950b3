import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsService } from './metrics.service';

export const METRICS_PATH = '/metrics';

/** The label of requests no route matched (404s, scanners): their URLs must not become labels. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** Counts and times every answered request by route pattern, except the scrapes of /metrics. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    // 'close' also fires for aborted transfers, which 'finish' would miss.
    response.once('close', () => {
      const route = routeOf(request);
      if (route === METRICS_PATH) return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.recordHttp(request.method, route, response.statusCode, seconds);
    });
    next();
  }
}

/**
 * The matched route's pattern (`/v8/artifacts/:hash`), set by the router once it matched. Nest
 * mounts module middleware as catch-all `/{*path}` routes, which is all a request that matched
 * no controller route has; the app itself has no wildcard routes.
 */
function routeOf(request: Request): string {
  const path = (request.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' && !path.includes('*') ? path : UNMATCHED_ROUTE;
}
