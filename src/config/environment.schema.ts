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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

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

  @IsString()
  @MinLength(1, { message: 'must be a directory path' })
  DATA_DIR: string = './.data';

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// connection URL' })
  DATABASE_URL?: string;

  @IsIn(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of milliseconds >= 0' })
  @Min(0, { message: 'must be a whole number of milliseconds >= 0' })
  SHUTDOWN_TIMEOUT_MS: number = 25_000;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  JWT_SECRET?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  ADMIN_TOKEN?: string;

  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of bytes >= 0' })
  @Min(0, { message: 'must be a whole number of bytes >= 0' })
  MAX_ARTIFACT_SIZE: number = 2 * 1024 ** 3;

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
  S3_SECRET_KEY?: string;

  @IsString()
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be a valid S3 bucket name' })
  S3_BUCKET: string = 'teamcache';

  @IsString()
  @MaxLength(64)
  S3_REGION: string = 'us-east-1';
}

export type EnvironmentKey = keyof EnvironmentSchema;
