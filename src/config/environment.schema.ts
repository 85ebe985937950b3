import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { parseByteSize } from '../common/byte-size';
import { CORS_ORIGINS_RULE, TRUST_PROXY_RULE } from './http-edge';
import { NotPlaceholder } from './placeholder-secret';
import { MAX_RETENTION_DAYS, QUOTA_MODES } from './retention-defaults';
import { DEFAULT_OIDC_ISSUERS } from './oidc-issuers';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;
const NX_OUTAGE_MODES = ['miss', 'fail'] as const;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};
const DAYS_RULE = `must be a whole number of days from 1 to ${MAX_RETENTION_DAYS}`;
/** A retention in whole days, 1 to MAX_RETENTION_DAYS (every *_RETENTION_DAYS variable). */
function RetentionDays(): PropertyDecorator {
  return applyDecorators(
    Transform(toInt),
    IsInt({ message: DAYS_RULE }),
    Min(1, { message: DAYS_RULE }),
    Max(MAX_RETENTION_DAYS, { message: DAYS_RULE }),
  );
}

const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** `10GiB`, `500MB` or a byte count; anything unreadable is left for the validator to refuse. */
const toByteSize = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string' || value === '') return emptyToUndefined({ value });
  try {
    return parseByteSize(value);
  } catch {
    return value;
  }
};

/**
 * Every environment variable teamcache reads, with its rule. `loadConfig` validates a copy of
 * process.env against this class once at start; nothing else reads process.env.
 */
export class EnvironmentSchema {
  @Transform(toInt)
  @IsInt({ message: 'must be a port number between 1 and 65535' })
  @Min(1, { message: 'must be a port number between 1 and 65535' })
  @Max(65535, { message: 'must be a port number between 1 and 65535' })
  PORT: number = 3000;

  @IsString()
  @MinLength(1, { message: 'must be a host name or IP address to listen on' })
  HOST: string = '0.0.0.0';

  /** Serve the admin API and UI on their own listener (absent from PORT when set). */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Transform(toInt)
  @IsInt({ message: 'must be a port number between 1 and 65535 (unset: the admin API is on PORT)' })
  @Min(1, {
    message: 'must be a port number between 1 and 65535 (unset: the admin API is on PORT)',
  })
  @Max(65535, {
    message: 'must be a port number between 1 and 65535 (unset: the admin API is on PORT)',
  })
  ADMIN_PORT?: number;

  /** Where the admin listener binds; loopback unless said otherwise. Needs ADMIN_PORT. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(1, { message: 'must be a host name or IP address to listen on' })
  ADMIN_HOST?: string;

  @IsString()
  @MinLength(1, { message: 'must be a directory path' })
  DATA_DIR: string = './.data';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// connection URL' })
  @NotPlaceholder()
  DATABASE_URL?: string;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  /** json: one JSON object per line; pretty: readable lines (default when stdout is a terminal). */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(LOG_FORMATS, { message: `must be one of ${LOG_FORMATS.join(', ')}` })
  LOG_FORMAT?: (typeof LOG_FORMATS)[number];

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds >= 0' })
  @Min(0, { message: 'must be a whole number of milliseconds >= 0' })
  SHUTDOWN_TIMEOUT_MS: number = 25_000;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of worker processes between 1 and 64' })
  @Min(1, { message: 'must be a whole number of worker processes between 1 and 64' })
  @Max(64, { message: 'must be a whole number of worker processes between 1 and 64' })
  WORKERS: number = 1;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @NotPlaceholder()
  JWT_SECRET?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  @NotPlaceholder()
  ADMIN_TOKEN?: string;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of bytes >= 0' })
  @Min(0, { message: 'must be a whole number of bytes >= 0' })
  MAX_ARTIFACT_SIZE: number = 2 * 1024 ** 3;

  // Generous: a 2 GiB upload over a slow CI uplink must still fit.
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds >= 0 (0 = no limit)' })
  @Min(0, { message: 'must be a whole number of milliseconds >= 0 (0 = no limit)' })
  REQUEST_TIMEOUT_MS: number = 600_000;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds >= 0 (0 = no limit)' })
  @Min(0, { message: 'must be a whole number of milliseconds >= 0 (0 = no limit)' })
  UPLOAD_IDLE_TIMEOUT_MS: number = 60_000;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of minutes >= 1' })
  @Min(1, { message: 'must be a whole number of minutes >= 1' })
  SWEEP_TEMP_AFTER_MINUTES: number = 60;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of minutes >= 0 (0 = never)' })
  @Min(0, { message: 'must be a whole number of minutes >= 0 (0 = never)' })
  SWEEP_TEMP_INTERVAL_MINUTES: number = 15;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @Matches(/^[A-Za-z0-9.-]+$/, { message: 'must be a host name without scheme or port' })
  S3_ENDPOINT?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a port number between 1 and 65535' })
  @Min(1, { message: 'must be a port number between 1 and 65535' })
  @Max(65535, { message: 'must be a port number between 1 and 65535' })
  S3_PORT?: number;

  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  S3_USE_SSL: boolean = true;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  S3_ACCESS_KEY?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @NotPlaceholder()
  S3_SECRET_KEY?: string;

  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a valid S3 bucket name' })
  S3_BUCKET: string = 'teamcache';

  @IsString()
  @MaxLength(64)
  S3_REGION: string = 'us-east-1';

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  @NotPlaceholder()
  METRICS_TOKEN?: string;

  @Matches(CORS_ORIGINS_RULE, {
    message: 'must be * or a comma-separated list of origins such as https://ci.example.com',
  })
  CORS_ORIGINS: string = '*';

  @Matches(TRUST_PROXY_RULE, {
    message: 'must be true, false, a hop count, or comma-separated addresses/subnets',
  })
  TRUST_PROXY: string = 'false';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of failures per minute >= 0 (0: no limit)' })
  @Min(0, { message: 'must be a whole number of failures per minute >= 0 (0: no limit)' })
  RATE_LIMIT_AUTH_FAILURES: number = 30;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of requests per minute >= 0 (0: no limit)' })
  @Min(0, { message: 'must be a whole number of requests per minute >= 0 (0: no limit)' })
  RATE_LIMIT_ADMIN: number = 120;

  @RetentionDays()
  RETENTION_DAYS: number = 30;

  /** Overlay (untrusted) entries' retention: issue 16 asks for 7 days by default. */
  @RetentionDays()
  OVERLAY_RETENTION_DAYS: number = 7;

  @IsOptional()
  @Transform(toByteSize)
  @IsInt({ message: 'must be a size such as 10GiB or a whole number of bytes > 0' })
  TEAM_QUOTA_BYTES?: number;

  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && value.trim() === '0' ? 0 : toByteSize({ value }),
  )
  @IsInt({ message: 'must be a size such as 64MiB, a whole number of bytes, or 0 (no cache)' })
  MEMORY_CACHE_BYTES: number = 32 * 1024 * 1024;

  @IsIn(QUOTA_MODES, { message: `must be one of ${QUOTA_MODES.join(', ')}` })
  QUOTA_MODE: (typeof QUOTA_MODES)[number] = 'evict';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds >= 0 (0: no background sweeps)' })
  @Min(0, { message: 'must be a whole number of milliseconds >= 0 (0: no background sweeps)' })
  // Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer interval would fire at once.
  @Max(2_147_483_647, { message: 'must be at most 2147483647 milliseconds (about 24 days)' })
  RETENTION_SWEEP_INTERVAL_MS: number = 600_000;

  /** Raw usage events are kept this many whole UTC days (and today); older ones are pruned once rolled up. */
  @RetentionDays()
  USAGE_EVENTS_RETENTION_DAYS: number = 30;

  /** The daily rollups of usage events are kept this many days (about two years by default). */
  @RetentionDays()
  USAGE_ROLLUP_RETENTION_DAYS: number = 730;

  /** How often usage events are rolled up (one process at a time); 0: never (stats stay exact, but read raw events). */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds >= 0 (0: no rollups)' })
  @Min(0, { message: 'must be a whole number of milliseconds >= 0 (0: no rollups)' })
  @Max(2_147_483_647, { message: 'must be at most 2147483647 milliseconds (about 24 days)' })
  USAGE_ROLLUP_INTERVAL_MS: number = 5_000;

  /**
   * What the Nx routes answer while the database or storage is down: miss (GET 404, PUT 403, so
   * Nx goes on without the cache) or fail (503, which stops the Nx run).
   */
  @IsIn(NX_OUTAGE_MODES, { message: `must be one of ${NX_OUTAGE_MODES.join(', ')}` })
  NX_ON_OUTAGE: (typeof NX_OUTAGE_MODES)[number] = 'miss';

  /** Issuers whose CI job tokens POST /oidc/token accepts (issue 17); checked by parseOidcIssuers. */
  @IsString({ message: 'must be a comma-separated list of issuer URLs' })
  OIDC_ISSUERS: string = DEFAULT_OIDC_ISSUERS;

  /** Tests only: lets an http://127.0.0.1 issuer into OIDC_ISSUERS. */
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  OIDC_ALLOW_HTTP_ISSUERS: boolean = false;

  /** How long the Nx routes wait for the database and storage before treating it as an outage. */
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds from 100 to 600000' })
  @Min(100, { message: 'must be a whole number of milliseconds from 100 to 600000' })
  @Max(600_000, { message: 'must be a whole number of milliseconds from 100 to 600000' })
  NX_TIMEOUT_MS: number = 10_000;
}

export type EnvironmentKey = keyof EnvironmentSchema;
