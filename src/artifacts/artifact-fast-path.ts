import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { CachePrincipal } from '../auth/cache-principal';
import { CacheAuthService } from '../auth/cache-auth.service';
import { CacheRequirement } from '../auth/cache-gates';
import { describeError, writeError } from '../common/error-response';
import { setRouteLabel } from '../http/request-envelope';
import { MetricsService } from '../metrics/metrics.service';
import { StorageUnavailableError } from '../storage/blob-storage';
import { ArtifactsService } from './artifacts.service';
import { PROTOCOL_LIMITS } from './protocol-limits';
import { type FoundArtifact, sendArtifact } from './send-artifact';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** `/v8/artifacts/<hash>` or `/artifacts/<hash>` (slashes doubled by turbo), and a query. */
const ROUTE = new RegExp(
  `^/+(v8/+)?artifacts/+([0-9a-fA-F]{1,${PROTOCOL_LIMITS.hashLength}})(?:\\?(.*))?$`,
);

/**
 * GET and HEAD of artifacts, the requests a CI fleet sends by the thousand, answered straight
 * from the HTTP server without the Nest pipeline (router, guards, interceptors, filters),
 * which cost several times the lookup itself. A thin frontend over the same core as the Nest
 * route: CacheAuthService.peek decides who may read (it takes only what it can decide without
 * I/O: a token verified moments ago passing every gate), ArtifactsService finds the artifact,
 * sendArtifact answers and counts, describeError/writeError render a failure. Everything peek
 * cannot decide (first use of a token, a refusal, odd URLs) goes to the Nest app untouched.
 * Both sit inside RequestEnvelope (request id, log line, CORS, HTTP metrics).
 */
@Injectable()
export class ArtifactFastPath {
  private readonly logger = new Logger(ArtifactFastPath.name);

  constructor(
    private readonly artifacts: ArtifactsService,
    private readonly auth: CacheAuthService,
    private readonly metrics: MetricsService,
  ) {}

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
    const principal = this.auth.peek({
      authorization: req.headers.authorization,
      query: route[3] === undefined ? {} : parseQuery(route[3]),
      requirement: CacheRequirement.Read,
      // peek() declines whenever any client is blocked, so the address is not needed here.
      client: '',
    });
    if (!principal) return false;
    const label = route[1] === undefined ? '/artifacts/:hash' : '/v8/artifacts/:hash';
    this.serve(req, res, method, label, route[2].toLowerCase(), principal).catch(() => {
      // A bug here must cost one request, never the process: Nest answers it if it still can.
      if (res.headersSent) res.destroy();
      else next(req, res);
    });
    return true;
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    method: 'GET' | 'HEAD',
    route: string,
    hash: string,
    principal: CachePrincipal,
  ): Promise<void> {
    setRouteLabel(req, route);
    let found: FoundArtifact | null;
    try {
      found = await this.artifacts.find(principal, hash, method);
    } catch (error) {
      // A storage or database failure before any byte: answered here, as the Nest filter would.
      if (error instanceof StorageUnavailableError) this.metrics.recordStorageError();
      const answer = describeError(error, { method, path: req.url });
      if (answer.status >= 500) this.logger.error({ err: error, url: req.url }, answer.message);
      writeError(res, answer, true);
      return;
    }
    await sendArtifact(res, method, found, principal.teamSlug, this.metrics);
  }
}
