import { Inject, Injectable } from '@nestjs/common';
import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { levels } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { requestId, requestLogOptions } from '../logging/request-log';
import { METRICS_PATH, UNMATCHED_ROUTE } from '../metrics/http-metrics';
import { MetricsService } from '../metrics/metrics.service';
import { cacheCorsFor } from './cache-cors';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

const ROUTE_LABEL = Symbol('teamcache.routeLabel');
type Labelled = IncomingMessage & { [ROUTE_LABEL]?: string; route?: { path?: unknown } };

/** Names the route pattern of a request answered outside Express's router (the fast path). */
export function setRouteLabel(req: IncomingMessage, route: string): void {
  (req as Labelled)[ROUTE_LABEL] = route;
}

/**
 * What every request gets, whichever frontend answers it (the artifact fast path or a Nest
 * route), applied once, on the HTTP server, before either sees it: its x-request-id (a sane
 * incoming one, else a new one), its one request log line (pino-http; none below info), the
 * CORS answer of the cache routes (preflights answered here, before any token), and the HTTP
 * metrics by route pattern once it closes (`/metrics` scrapes excluded).
 */
@Injectable()
export class RequestEnvelope {
  private readonly requestLog?: HttpLogger;
  private readonly cors: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Hits and misses are logged at info; below that level the request log costs nothing.
    if (config.logLevel !== 'silent' && levels.values[config.logLevel] <= levels.values.info) {
      this.requestLog = pinoHttp(requestLogOptions(config));
    }
    this.cors = cors(cacheCorsFor(config.corsOrigins));
  }

  /** `next` (the frontends) inside the envelope. */
  wrap(next: RequestListener): RequestListener {
    return (req, res) => {
      const started = process.hrtime.bigint();
      if (this.requestLog) this.requestLog(req, res);
      else requestId(req, res);
      // 'close' also fires for aborted transfers, which 'finish' would miss.
      res.once('close', () => {
        const route = routeOf(req as Labelled);
        if (route === METRICS_PATH) return;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.recordHttp(req.method ?? 'GET', route, res.statusCode, seconds);
      });
      this.cors(req, res, () => next(req, res));
    };
  }
}

/**
 * The route pattern (`/v8/artifacts/:hash`): named by the fast path, or set by Express's router
 * once it matched. Nest mounts module middleware as catch-all `/{*path}` routes, which is all a
 * request that matched no controller route has; the app itself has no wildcard routes.
 */
function routeOf(req: Labelled): string {
  if (req[ROUTE_LABEL]) return req[ROUTE_LABEL];
  const path = req.route?.path;
  return typeof path === 'string' && !path.includes('*') ? path : UNMATCHED_ROUTE;
}
