import { Injectable } from '@nestjs/common';
import type { CacheTool } from '../storage/blob-keys';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type CacheLookupResult = 'hit' | 'miss';

/** Seconds; artifact transfers of a large monorepo take minutes, status calls milliseconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The app's Prometheus metrics, in a registry of its own (so two apps in one process, as in the
 * tests, never share counters). Labels carry route patterns and team slugs, never hashes or URLs.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: 'teamcache_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'teamcache_http_request_duration_seconds',
    help: 'Time from request to the end of the response, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly uploadedBytes = new Counter({
    name: 'teamcache_artifact_uploaded_bytes_total',
    help: 'Artifact bytes stored by uploads, by team and tool (turbo, nx)',
    labelNames: ['team', 'tool'] as const,
    registers: [this.registry],
  });
  private readonly downloadedBytes = new Counter({
    name: 'teamcache_artifact_downloaded_bytes_total',
    help: 'Artifact bytes sent by downloads, by team and tool (turbo, nx)',
    labelNames: ['team', 'tool'] as const,
    registers: [this.registry],
  });
  private readonly cacheLookups = new Counter({
    name: 'teamcache_cache_lookups_total',
    help: 'Artifact downloads (GET), by team, tool (turbo, nx) and result: hit (200) or miss (404)',
    labelNames: ['team', 'tool', 'result'] as const,
    registers: [this.registry],
  });
  private readonly nxRefusals = new Counter({
    name: 'teamcache_nx_refusals_total',
    help:
      'Nx cache requests not answered plainly, by method and reason (outage: database or storage ' +
      'down or slow, answered per NX_ON_OUTAGE; unauthorized; forbidden: paused team, read-only ' +
      'token, quota; exists: 409; invalid; error)',
    labelNames: ['method', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly discardedUploads = new Counter({
    name: 'teamcache_trusted_uploads_discarded_total',
    help:
      'Trusted uploads read and dropped because the team keeps immutable trusted entries and ' +
      'the hash was already stored (first trusted write wins), by team and tool',
    labelNames: ['team', 'tool'] as const,
    registers: [this.registry],
  });
  private readonly oidcExchanges = new Counter({
    name: 'teamcache_oidc_exchanges_total',
    help: 'CI token exchanges at POST /oidc/token, by result: issued_trusted, issued_untrusted, refused (a 4xx), failed (issuer or database unavailable)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly storageErrors = new Counter({
    name: 'teamcache_storage_errors_total',
    help: 'Requests that failed because the blob storage was unavailable (answered 503)',
    registers: [this.registry],
  });
  private readonly skippedUsageEvents = new Counter({
    name: 'teamcache_usage_events_rejected_total',
    help: 'Malformed usage events skipped (the rest of their batch was stored), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  recordHttp(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  recordUpload(team: string, bytes: number, tool: CacheTool = 'turbo'): void {
    this.uploadedBytes.inc({ team, tool }, bytes);
  }

  /** One POST /oidc/token answered (see the counter's help for the results). */
  recordOidcExchange(result: 'issued_trusted' | 'issued_untrusted' | 'refused' | 'failed'): void {
    this.oidcExchanges.inc({ result });
  }

  /** A trusted upload dropped under immutable trusted entries (nothing was stored). */
  recordDiscardedUpload(team: string, tool: CacheTool = 'turbo'): void {
    this.discardedUploads.inc({ team, tool });
  }

  recordDownload(team: string, bytes: number, tool: CacheTool = 'turbo'): void {
    this.downloadedBytes.inc({ team, tool }, bytes);
  }

  recordLookup(team: string, result: CacheLookupResult, tool: CacheTool = 'turbo'): void {
    this.cacheLookups.inc({ team, tool, result });
  }

  /** `reason` is one of NxRefusal's fixed words, never client text. */
  recordNxRefusal(method: string, reason: string): void {
    this.nxRefusals.inc({ method, reason });
  }

  recordStorageError(): void {
    this.storageErrors.inc();
  }

  /** `reason` is one of a handful of fixed words (events' SkipReason), never client text. */
  recordSkippedUsageEvent(reason: string): void {
    this.skippedUsageEvents.inc({ reason });
  }
}
