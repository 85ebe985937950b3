import { Inject, Injectable, Logger } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { once } from 'node:events';
import proxyaddr from 'proxy-addr';
import { ArtifactsService } from '../artifacts/artifacts.service';
import { sendArtifact } from '../artifacts/send-artifact';
import { parseUploadHeaders } from '../artifacts/upload-headers';
import { detachedBody } from '../artifacts/request-body';
import { CacheAuthService } from '../auth/cache-auth.service';
import { CacheRequirement } from '../auth/cache-gates';
import type { CachePrincipal } from '../auth/cache-principal';
import { AppException } from '../common/app-exception';
import { DependencyUnavailableError } from '../common/domain-errors';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { setRouteLabel } from '../http/request-envelope';
import { MetricsService } from '../metrics/metrics.service';
import { MAX_NX_HASH_LENGTH, nxStoredHash } from '../storage/blob-keys';
import { type NxMethod, nxAnswerFor } from './nx-answers';
import { NxUsageRecorder } from './nx-usage.recorder';

/** Nx's self-hosted cache API: `/v1/cache/{hash}` after the configured base URL. */
/** Anything after `/v1/cache/` is the hash, checked by the route (a custom hasher's may hold '/'). */
const ROUTE = /^\/+v1\/+cache\/+([^?]*)(?:\?.*)?$/;
const NX_HASH = new RegExp(`^[0-9]{1,${MAX_NX_HASH_LENGTH}}$`);
const ROUTE_LABEL = '/v1/cache/:hash';

type TrustFn = (address: string, hop: number) => boolean;

/**
 * The Nx self-hosted remote cache API (nx 20.8+: `NX_SELF_HOSTED_REMOTE_CACHE_SERVER` and
 * `..._ACCESS_TOKEN`), a thin frontend over the same core as the turbo routes: CacheAuthService
 * decides who may read or write (the token is the tenant: Nx sends no team), ArtifactsService
 * stores and finds (in the team's Nx namespace, `nx-<hash>`), sendArtifact answers a GET.
 * What differs is only what Nx needs to hear (nxAnswerFor): 200 for a stored PUT, 409 for an
 * entry that exists (immutable), text/plain refusals, misses instead of errors where an error
 * would stop the user's run, and no request held longer than NX_TIMEOUT_MS on a dependency.
 * Answered here, in front of Nest, like the artifact fast path.
 */
@Injectable()
export class NxCacheFrontend {
  private readonly logger = new Logger(NxCacheFrontend.name);
  private readonly trust: TrustFn;

  constructor(
    private readonly artifacts: ArtifactsService,
    private readonly auth: CacheAuthService,
    private readonly metrics: MetricsService,
    private readonly usage: NxUsageRecorder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.trust = compileTrust(config.trustProxy);
  }

  /** `next` (the other frontends) with the Nx routes in front of it. */
  wrap(next: RequestListener): RequestListener {
    return (req, res) => {
      const route = req.url === undefined ? null : ROUTE.exec(req.url);
      const method = req.method;
      if (!route || (method !== 'GET' && method !== 'PUT')) return next(req, res);
      setRouteLabel(req, ROUTE_LABEL);
      this.serve(req, res, method, route[1]).catch((error: unknown) => {
        // A bug here costs one request, never the process.
        this.logger.error({ err: error, url: req.url }, 'Nx cache request failed');
        if (res.headersSent) res.destroy();
        else this.refuse(res, method, error);
      });
    };
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    method: NxMethod,
    hash: string,
  ): Promise<void> {
    let principal: CachePrincipal | undefined;
    try {
      if (!NX_HASH.test(hash)) {
        throw AppException.badRequest(`hash must be 1 to ${MAX_NX_HASH_LENGTH} decimal digits`);
      }
      const request = {
        authorization: req.headers.authorization,
        query: {},
        requirement: method === 'GET' ? CacheRequirement.Read : CacheRequirement.Write,
        client: '',
      };
      // A token verified moments ago and passing every gate is decided without I/O (as on the
      // turbo fast path); anything else, refusals included, takes the full authentication.
      principal =
        this.auth.peek(request) ??
        (await this.bounded(
          this.auth.authenticate({ ...request, client: normalizeIp(proxyaddr(req, this.trust)) }),
        ));
      if (method === 'GET') await this.download(res, principal, hash);
      else await this.upload(req, res, principal, hash);
      this.usage.recordAnswer(principal.teamId, method, res.statusCode);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = this.refuse(res, method, error, req.url);
      const teamId = principal?.teamId ?? this.refusedWriter(req, method, status)?.teamId;
      if (teamId) this.usage.recordAnswer(teamId, method, status);
    }
  }

  /**
   * For a PUT that authentication refused with 403, the verified token's principal when only
   * the write was refused (a read-only token), so the refusal counts for its team; read from the
   * verification just cached, without I/O. Undefined when its team would be refused a read too
   * (a paused team), or when the token was not verified.
   */
  private refusedWriter(
    req: IncomingMessage,
    method: NxMethod,
    status: number,
  ): CachePrincipal | undefined {
    if (method !== 'PUT' || status !== 403) return undefined;
    return this.auth.peek({
      authorization: req.headers.authorization,
      query: {},
      requirement: CacheRequirement.Read,
      client: '',
    });
  }

  private async download(res: ServerResponse, principal: CachePrincipal, hash: string) {
    const found = await this.bounded(
      this.artifacts.find(principal, nxStoredHash(hash), 'GET'),
      undefined,
      (late) => late?.blob?.stream.destroy(),
    );
    await sendArtifact(res, 'GET', found, principal.teamSlug, this.metrics, 'nx');
  }

  private async upload(
    req: IncomingMessage,
    res: ServerResponse,
    principal: CachePrincipal,
    hash: string,
  ) {
    const meta = parseUploadHeaders(req.headers, this.config.maxArtifactSize);
    // The body takes as long as the client needs; once it is all here, storage and the
    // database get NX_TIMEOUT_MS to finish.
    const received = once(req, 'end').then(() => undefined);
    // Nx entries are immutable (ifAbsent: 409 for a hash the token already sees), so a team's
    // immutable trusted entries change nothing here.
    const stored = await this.bounded(
      this.artifacts.upload(principal, nxStoredHash(hash), detachedBody(req, res), meta, {
        ifAbsent: true,
      }),
      received,
    );
    this.metrics.recordUpload(principal.teamSlug, stored.size, 'nx');
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
    res.end('OK');
  }

  /**
   * Answers the Nx answer to `error` (nxAnswerFor), in text/plain exactly (Nx checks it on a
   * 401); returns its status.
   */
  private refuse(res: ServerResponse, method: NxMethod, error: unknown, url?: string): number {
    const answer = nxAnswerFor(method, error, this.config.nx.onOutage);
    this.metrics.recordNxRefusal(method, answer.reason);
    if (answer.reason === 'outage' || answer.reason === 'error') {
      // The client hears a generic message; the operator reads what really happened.
      const cause = error instanceof Error ? error.message : String(error);
      this.logger.warn(
        { url, status: answer.status, cause },
        `Nx ${method} answered ${answer.status}: ${cause}`,
      );
    }
    const body = `${answer.message}\n`;
    res.writeHead(answer.status, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(body),
      // A refused PUT's body was not read: the connection cannot carry another request.
      ...(method === 'PUT' ? { connection: 'close' } : {}),
    });
    res.end(body);
    return answer.status;
  }

  /**
   * `work`, or a DependencyUnavailableError once NX_TIMEOUT_MS passed (counted from `after`
   * when given): Nx has no client timeout, so a request held here would hang the user's CI job.
   * `work` goes on after a timeout; `releaseLate` gets what it yields then (e.g. a body opened
   * for a GET already answered), so nothing it opened stays open.
   */
  private bounded<T>(
    work: Promise<T>,
    after: Promise<void> = Promise.resolve(),
    releaseLate?: (value: T) => void,
  ): Promise<T> {
    const ms = this.config.nx.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    work.then(
      (value) => {
        if (timedOut) releaseLate?.(value);
      },
      () => undefined,
    );
    // A body that never completes fails the upload itself; the clock starts only at its end.
    const never = new Promise<never>(() => undefined);
    const expired = after.then(
      () =>
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(
              new DependencyUnavailableError(
                `the database or storage did not answer within NX_TIMEOUT_MS (${ms} ms)`,
              ),
            );
          }, ms);
        }),
      () => never,
    );
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }
}

/** TRUST_PROXY as a proxy-addr trust function, read the way express reads `trust proxy`. */
function compileTrust(value: AppConfig['trustProxy']): TrustFn {
  if (value === true) return () => true;
  if (value === false) return () => false;
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return proxyaddr.compile(value);
}
