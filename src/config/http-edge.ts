/**
 * Parsing of the variables that shape the HTTP edge (CORS_ORIGINS, TRUST_PROXY); the schema
 * has already checked their syntax.
 */

/** `*` or a comma-separated list of origins such as `https://ci.example.com`. */
export const CORS_ORIGINS_RULE =
  /^\s*(\*|https?:\/\/[^\s,/]+\/?(\s*,\s*https?:\/\/[^\s,/]+\/?)*)\s*$/;

export function parseCorsOrigins(value: string): '*' | string[] {
  const trimmed = value.trim();
  if (trimmed === '*') return '*';
  return trimmed.split(',').map((origin) => origin.trim().replace(/\/+$/, ''));
}

/** `false`, `true`, a hop count, or addresses/subnets/`loopback` (express's `trust proxy`). */
const PROXY_ENTRY = String.raw`(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)`;
export const TRUST_PROXY_RULE = new RegExp(
  String.raw`^\s*(true|false|\d{1,2}|${PROXY_ENTRY}(\s*,\s*${PROXY_ENTRY})*)\s*$`,
  'i',
);

export type TrustProxy = boolean | number | string[];

export function parseTrustProxy(value: string): TrustProxy {
  const trimmed = value.trim().toLowerCase();
  if (trimmed === 'true') return true;
  if (trimmed === 'false') return false;
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed.split(',').map((entry) => entry.trim());
}
