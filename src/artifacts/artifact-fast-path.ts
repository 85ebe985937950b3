import { Inject, Injectable } from '@nestjs/common';
import cors from 'cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { pipeline } from 'node:stream/promises';
import { levels } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { CachePrincipal } from '../auth/cache-principal';
import { checkTeamQuery } from '../auth/team-query';
import { VerifiedTokens } from '../auth/verified-tokens';
import { errorBody } from '../common/error-body';
import { ErrorCode } from '../common/error-codes';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { cacheCorsOptions } from './cache-cors';
import { markRequestLogged, requestId, requestLogOptions } from '../logging/logging.module';
import { MetricsService } from '../metrics/metrics.service';
import { AuthFailureLimiter } from '../rate-limit/auth-failure.limiter';
import type { BlobDownload } from '../storage/blob-storage';
import { TeamStatus } from '../teams/team.entity';
import type { ArtifactHeaders } from './artifact-index.cache';
import { ArtifactsService } from './artifacts.service';
import { binaryHeaders, NOT_FOUND } from './artifact-responses';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** `/v8/artifacts/<hash>` or `/artifacts/<hash>` (slashes doubled by turbo), and a query. */
const ROUTE = /^\/+(v8\/+)?artifacts\/+([0-9a-fA-F]{1,128})(?:\?(.*))?$/;
/** Stricter than passport-jwt's extractor: whatever passes here, it reads the same way. */
const BEARER = /^bearer +(\S+)$/i;
const NOT_FOUND_BODY = JSON.stringify(errorBody(ErrorCode.NotFound, NOT_FOUND));
const noop = () => undefined;

/**
 * GET and HEAD of artifacts, the requests a CI fleet sends by the thousand, answered straight
 * from the HTTP server without the Nest pipeline (router, guards, interceptors, filters),
 * which cost several times the lookup itself. Only the plain case is taken: a token the guard
 * verified moments ago (VerifiedTokens), an enabled team, a query naming that team, no client
 * blocked for failed logins. Everything else (first use of a token, errors, CORS preflights,
 * odd URLs) goes to the Nest app untouched, and so does any lookup failure, since nothing has
 * been written by then. What the Nest route would add is added here from the same sources:
 * the request log line, x-request-id, CORS headers, metrics, hit counting.
 */
@Injectable()
export class ArtifactFastPath {
  private readonly requestLog?: HttpLogger;
  private readonly cors: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

  constructor(
    private readonly artifacts: ArtifactsService,
    private readonly tokens: VerifiedTokens,
    private readonly failures: AuthFailureLimiter,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Hits and misses are logged at info; below that level the request log costs nothing.
    if (config.logLevel !== 'silent' && levels.values[config.logLevel] <= levels.values.info) {
      this.requestLog = pinoHttp(requestLogOptions(config));
    }
    this.cors = cors(cacheCorsOptions(config.corsOrigins));
  }

  /** `next` (the Nest app) with the fast path in front of it. */
  wrap(next: RequestListener): RequestListener {
    return (req, res) => {
      if (!this.tryServe(req, res, next)) next(req, res);
    };
  }

  private tryServe(req: IncomingMessage, res: ServerResponse, next: RequestListener): boolean {
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || req.url === undefined) return false;
    const route = ROUTE.exec(req.url);
    if (!route) return false;
    const bearer = BEARER.exec(req.headers.authorization ?? '');
    if (!bearer) return false;
    const principal = this.tokens.peek(bearer[1]);
    if (!principal || principal.teamStatus === TeamStatus.Paused) return false;
    if (this.failures.blocksAnyone()) return false;
    if (route[3] !== undefined && !namesOwnTeam(route[3], principal)) return false;
    const label = route[1] === undefined ? '/artifacts/:hash' : '/v8/artifacts/:hash';
    this.serve(req, res, next, label, route[2].toLowerCase(), principal).catch(() => {
      // A bug here must cost one request, never the process: Nest answers it if it still can.
      if (res.headersSent) res.destroy();
      else next(req, res);
    });
    return true;
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    next: RequestListener,
    route: string,
    hash: string,
    principal: CachePrincipal,
  ): Promise<void> {
    const started = process.hrtime.bigint();
    const method = req.method as 'GET' | 'HEAD';
    if (this.requestLog) {
      this.requestLog(req, res);
      // If the Nest app answers after all, its own request log must not log a second line.
      markRequestLogged(req);
    }
    let found: Found | null;
    try {
      if (method === 'HEAD') {
        found = await this.artifacts.head(principal.teamId, hash);
      } else {
        const download = await this.artifacts.download(principal.teamId, hash);
        found = download && { meta: download.meta, size: download.blob.size, blob: download.blob };
      }
    } catch {
      // Nothing is written yet: the Nest route answers the failure (503 or 500), as always.
      next(req, res);
      return;
    }
    if (!this.requestLog) requestId(req, res);
    this.cors(req, res, noop);
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.recordHttp(method, route, res.statusCode, seconds);
    });
    if (method === 'GET') this.metrics.recordLookup(principal.teamSlug, found ? 'hit' : 'miss');
    if (!found) {
      res.writeHead(404, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(NOT_FOUND_BODY),
      });
      res.end(NOT_FOUND_BODY);
      return;
    }
    res.writeHead(200, binaryHeaders(found.size, found.meta));
    if (!found.blob) {
      res.end();
      return;
    }
    const { bytes } = found.blob;
    if (bytes) {
      res.end(bytes);
      this.metrics.recordDownload(principal.teamSlug, bytes.length);
      return;
    }
    const { stream } = found.blob;
    let sent = 0;
    stream.on('data', (chunk: Buffer) => (sent += chunk.length));
    res.once('close', () => this.metrics.recordDownload(principal.teamSlug, sent));
    // A storage failure mid-body, or a client gone: the response is cut, as on the Nest route.
    await pipeline(stream, res).catch(() => res.destroy());
  }
}

interface Found {
  meta: ArtifactHeaders;
  size: number;
  /** Absent for HEAD. */
  blob?: BlobDownload;
}

/** Whether `?slug=`/`?teamId=` name the token's team exactly as the guard would accept. */
function namesOwnTeam(query: string, principal: CachePrincipal): boolean {
  try {
    checkTeamQuery(parseQuery(query), principal);
    return true;
  } catch {
    return false;
  }
}
