import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppConfig, ConfigError } from '../config/app-config';

/** HMAC-SHA256 keys are 32 bytes: a shorter server secret would be the weakest link. */
export const MIN_JWT_SECRET_BYTES = 32;

/** Where embedded mode keeps the secret it generated, in DATA_DIR. */
export const JWT_SECRET_FILE = 'jwt-secret';

/**
 * The server secret every team's token signing key is derived from.
 * - JWT_SECRET when set (at least 32 bytes);
 * - with DATABASE_URL (a shared deployment: several replicas, the CLI elsewhere) it must be set;
 * - embedded mode: generated once into DATA_DIR/jwt-secret (mode 0600) and reused, so the server
 *   and the CLI on the same DATA_DIR agree and tokens survive restarts.
 * Throws ConfigError (one line naming JWT_SECRET); never includes the secret in a message.
 */
export function resolveJwtSecret(
  config: Pick<AppConfig, 'jwtSecret' | 'databaseUrl' | 'dataDir'>,
): string {
  if (config.jwtSecret !== undefined) {
    const bytes = Buffer.byteLength(config.jwtSecret, 'utf8');
    if (bytes < MIN_JWT_SECRET_BYTES) {
      throw new ConfigError(
        `Invalid configuration: JWT_SECRET must be at least ${MIN_JWT_SECRET_BYTES} bytes (got ${bytes}); e.g. openssl rand -base64 48`,
      );
    }
    return config.jwtSecret;
  }
  if (config.databaseUrl) {
    throw new ConfigError(
      `Invalid configuration: JWT_SECRET is required when DATABASE_URL is set (at least ${MIN_JWT_SECRET_BYTES} bytes, the same on every replica; e.g. openssl rand -base64 48)`,
    );
  }
  return readOrCreateSecretFile(path.join(config.dataDir, JWT_SECRET_FILE));
}

function readOrCreateSecretFile(file: string): string {
  const existing = readSecretFile(file);
  if (existing !== undefined) return existing;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });
  try {
    // link() publishes the complete file atomically and fails if a concurrent start (the server
    // and the CLI at once) published one first: then both use that one.
    fs.linkSync(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readSecretFile(file)!;
}

function readSecretFile(file: string): string | undefined {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(
      `Invalid configuration: cannot read ${file} (${(error as Error).message}); set JWT_SECRET or fix the file`,
    );
  }
  if (Buffer.byteLength(content, 'utf8') < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(
      `Invalid configuration: ${file} holds no usable JWT secret (under ${MIN_JWT_SECRET_BYTES} bytes); set JWT_SECRET or delete the file (this voids every token)`,
    );
  }
  return content;
}
