import { ConfigError } from '../config/app-config';

/** Prints a command failure as one clear line on stderr and exits non-zero. */
export function reportAndExit(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`teamcache: ${message}\n`);
  process.exit(error instanceof ConfigError ? 78 : 1);
}

/** Prints a result on stdout as indented JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
