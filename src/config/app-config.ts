import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import * as path from 'node:path';
import { EnvironmentSchema } from './environment.schema';
import { parseCorsOrigins, parseTrustProxy, TrustProxy } from './http-edge';
import type { RetentionDefaults } from './retention-defaults';
import { parseOidcIssuers } from './oidc-issuers';

export interface S3Config {
  endPoint: string;
  port?: number;
  useSSL: boolean;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

export interface AppConfig {
  port: number;
  host: string;
  /**
   * ADMIN_PORT, ADMIN_HOST: the admin API and UI on a listener of their own (host defaults to
   * loopback); unset: they share PORT with the cache API.
   */
  admin?: { port: number; host: string };
  dataDir: string;
  databaseUrl?: string;
  logLevel: EnvironmentSchema['LOG_LEVEL'];
  /** LOG_FORMAT: unset = pretty when stdout is a terminal, else JSON lines. */
  logFormat?: EnvironmentSchema['LOG_FORMAT'];
  shutdownTimeoutMs: number;
  /** WORKERS: HTTP worker processes sharing the port (node:cluster); 1 = no cluster. */
  workers: number;
  jwtSecret?: string;
  adminToken?: string;
  maxArtifactSize: number;
  /** METRICS_TOKEN: bearer token required by /metrics when set. */
  metricsToken?: string;
  /** CORS_ORIGINS: origins allowed to call the cache routes from a browser. */
  corsOrigins: '*' | string[];
  /** TRUST_PROXY: express's `trust proxy` (whose X-Forwarded-For names the client). */
  trustProxy: TrustProxy;
  /** RATE_LIMIT_AUTH_FAILURES (per client IP), RATE_LIMIT_ADMIN (per token): per minute, 0 = off. */
  rateLimit: { authFailuresPerMinute: number; adminPerMinute: number };
  /** REQUEST_TIMEOUT_MS, UPLOAD_IDLE_TIMEOUT_MS: how long a client may take (0 = no limit). */
  limits: { requestTimeoutMs: number; uploadIdleTimeoutMs: number };
  /** SWEEP_TEMP_AFTER_MINUTES, SWEEP_TEMP_INTERVAL_MINUTES: removal of abandoned upload leftovers. */
  tempSweep: { afterMinutes: number; intervalMs: number };
  storage: { driver: 'fs'; root: string } | ({ driver: 's3' } & S3Config);
  /** Memory for small artifact bodies kept in front of storage (0: none). */
  memoryCacheBytes: number;
  /** RETENTION_DAYS, TEAM_QUOTA_BYTES, QUOTA_MODE (teams may override days and quota). */
  retention: RetentionDefaults & { sweepIntervalMs: number };
  /**
   * USAGE_EVENTS_RETENTION_DAYS, USAGE_ROLLUP_RETENTION_DAYS (never shorter than the events'),
   * USAGE_ROLLUP_INTERVAL_MS (0: no rollup job).
   */
  usageStats: {
    eventsRetentionDays: number;
    rollupRetentionDays: number;
    rollupIntervalMs: number;
  };
  /** How long stored bodies that no row names may be in use: see blobLifetimes(). */
  blobs: BlobLifetimes;
  /** NX_ON_OUTAGE, NX_TIMEOUT_MS: the Nx routes' answer to a dependency outage, and its bound. */
  nx: { onOutage: 'miss' | 'fail'; timeoutMs: number };
  /** OIDC_ISSUERS (normalised; empty: no CI token exchange) and OIDC_ALLOW_HTTP_ISSUERS. */
  oidc: { issuers: string[]; allowHttp: boolean };
}

export interface BlobLifetimes {
  /** An upload whose body took longer than this is refused at its commit (its row is never written). */
  commitDeadlineMs: number;
  /**
   * Bodies no row names (replaced, orphaned) are deleted only once older than this: twice the
   * commit deadline, so an upload still on its way to its commit is never collected.
   */
  graceMs: number;
}

/** With REQUEST_TIMEOUT_MS=0 (no limit) an upload still has to commit within this long. */
const UNLIMITED_COMMIT_DEADLINE_MS = 6 * 3_600_000;

/** The commit deadline is REQUEST_TIMEOUT_MS (or 6 h when unlimited); the grace twice that. */
export function blobLifetimes(requestTimeoutMs: number): BlobLifetimes {
  const commitDeadlineMs = requestTimeoutMs > 0 ? requestTimeoutMs : UNLIMITED_COMMIT_DEADLINE_MS;
  return { commitDeadlineMs, graceMs: 2 * commitDeadlineMs };
}

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Variables whose values are secrets (tokens, keys, a URL with a password): a configuration
 * error names them and the rule they broke, never their value.
 */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'JWT_SECRET',
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'DATABASE_URL',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
]);

/** A configuration problem, reported as one line naming the variable and what it expected. */
export class ConfigError extends Error {}

function describe(error: ValidationError, env: Record<string, string | undefined>): string {
  const got = env[error.property];
  const expected = Object.values(error.constraints ?? {})[0] ?? 'is invalid';
  const rule = expected.startsWith(error.property)
    ? expected.slice(error.property.length + 1)
    : expected;
  // A secret's value is never echoed: start-up errors end up in `docker compose logs`.
  const echo = got !== undefined && !SECRET_VARIABLES.has(error.property);
  return `${error.property} ${rule}${echo ? ` (got ${JSON.stringify(got)})` : ''}`;
}

/** Validates the environment once and returns the typed configuration, or throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.keys(new EnvironmentSchema());
  const relevant: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && known.includes(key)) relevant[key] = value;
  }
  const parsed = plainToInstance(EnvironmentSchema, relevant, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { skipMissingProperties: false });
  if (errors.length > 0) {
    throw new ConfigError(
      `Invalid configuration: ${errors.map((e) => describe(e, env)).join('; ')}`,
    );
  }
  const dataDir = path.resolve(parsed.DATA_DIR);
  checkAdminListener(parsed);
  return {
    port: parsed.PORT,
    host: parsed.HOST,
    admin:
      parsed.ADMIN_PORT === undefined
        ? undefined
        : { port: parsed.ADMIN_PORT, host: parsed.ADMIN_HOST ?? '127.0.0.1' },
    dataDir,
    databaseUrl: parsed.DATABASE_URL,
    logLevel: parsed.LOG_LEVEL,
    logFormat: parsed.LOG_FORMAT,
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    workers: parsed.WORKERS,
    jwtSecret: parsed.JWT_SECRET,
    adminToken: parsed.ADMIN_TOKEN,
    maxArtifactSize: parsed.MAX_ARTIFACT_SIZE,
    metricsToken: parsed.METRICS_TOKEN,
    corsOrigins: parseCorsOrigins(parsed.CORS_ORIGINS),
    trustProxy: parseTrustProxy(parsed.TRUST_PROXY),
    rateLimit: {
      authFailuresPerMinute: parsed.RATE_LIMIT_AUTH_FAILURES,
      adminPerMinute: parsed.RATE_LIMIT_ADMIN,
    },
    limits: {
      requestTimeoutMs: parsed.REQUEST_TIMEOUT_MS,
      uploadIdleTimeoutMs: parsed.UPLOAD_IDLE_TIMEOUT_MS,
    },
    tempSweep: {
      afterMinutes: parsed.SWEEP_TEMP_AFTER_MINUTES,
      intervalMs: parsed.SWEEP_TEMP_INTERVAL_MINUTES * 60_000,
    },
    storage: storageConfig(parsed, dataDir),
    memoryCacheBytes: parsed.MEMORY_CACHE_BYTES,
    retention: {
      retentionDays: parsed.RETENTION_DAYS,
      overlayRetentionDays: parsed.OVERLAY_RETENTION_DAYS,
      quotaBytes: parsed.TEAM_QUOTA_BYTES ?? null,
      quotaMode: parsed.QUOTA_MODE,
      sweepIntervalMs: parsed.RETENTION_SWEEP_INTERVAL_MS,
    },
    usageStats: usageStatsConfig(parsed),
    blobs: blobLifetimes(parsed.REQUEST_TIMEOUT_MS),
    nx: { onOutage: parsed.NX_ON_OUTAGE, timeoutMs: parsed.NX_TIMEOUT_MS },
    oidc: oidcConfig(parsed),
  };
}

function oidcConfig(env: EnvironmentSchema): AppConfig['oidc'] {
  const issuers = parseOidcIssuers(env.OIDC_ISSUERS, env.OIDC_ALLOW_HTTP_ISSUERS);
  if (!Array.isArray(issuers)) throw new ConfigError(`Invalid configuration: ${issuers.error}`);
  return { issuers, allowHttp: env.OIDC_ALLOW_HTTP_ISSUERS };
}

/** Rollups outlive the raw events they stand for, or a period would lose days in between. */
function usageStatsConfig(env: EnvironmentSchema): AppConfig['usageStats'] {
  if (env.USAGE_ROLLUP_RETENTION_DAYS < env.USAGE_EVENTS_RETENTION_DAYS) {
    throw new ConfigError(
      `Invalid configuration: USAGE_ROLLUP_RETENTION_DAYS (${env.USAGE_ROLLUP_RETENTION_DAYS}) must be at least USAGE_EVENTS_RETENTION_DAYS (${env.USAGE_EVENTS_RETENTION_DAYS})`,
    );
  }
  return {
    eventsRetentionDays: env.USAGE_EVENTS_RETENTION_DAYS,
    rollupRetentionDays: env.USAGE_ROLLUP_RETENTION_DAYS,
    rollupIntervalMs: env.USAGE_ROLLUP_INTERVAL_MS,
  };
}

/** The admin listener needs its own port; a host alone would silently do nothing. */
function checkAdminListener(env: EnvironmentSchema): void {
  if (env.ADMIN_HOST !== undefined && env.ADMIN_PORT === undefined) {
    throw new ConfigError('Invalid configuration: ADMIN_HOST needs ADMIN_PORT');
  }
  if (env.ADMIN_PORT !== undefined && env.ADMIN_PORT === env.PORT) {
    throw new ConfigError(
      'Invalid configuration: ADMIN_PORT must differ from PORT (unset it to serve the admin API on PORT)',
    );
  }
}

function storageConfig(env: EnvironmentSchema, dataDir: string): AppConfig['storage'] {
  if (!env.S3_ENDPOINT) return { driver: 'fs', root: path.join(dataDir, 'blobs') };
  if (!env.S3_ACCESS_KEY || !env.S3_SECRET_KEY) {
    throw new ConfigError(
      'Invalid configuration: S3_ACCESS_KEY and S3_SECRET_KEY are required when S3_ENDPOINT is set',
    );
  }
  return {
    driver: 's3',
    endPoint: env.S3_ENDPOINT,
    port: env.S3_PORT,
    useSSL: env.S3_USE_SSL,
    accessKey: env.S3_ACCESS_KEY,
    secretKey: env.S3_SECRET_KEY,
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
  };
}
