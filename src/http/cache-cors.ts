import type { CorsOptions, CorsOptionsDelegate, CorsRequest } from 'cors';
import type { IncomingMessage } from 'node:http';
import { CACHE_ROUTE_PREFIXES } from './cache-routes';

/** What turbo (and a browser client) may send: with TURBO_PREFLIGHT it drops what is not listed. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'x-artifact-duration',
  'x-artifact-tag',
  'x-artifact-sha',
  'x-artifact-dirty-hash',
  'x-artifact-client-ci',
  'x-artifact-client-interactive',
  'x-request-id',
];

/** What a browser client may read from our answers. */
export const CORS_EXPOSED_HEADERS = [
  'content-length',
  'x-artifact-duration',
  'x-artifact-tag',
  'x-artifact-sha',
  'x-artifact-dirty-hash',
  'x-request-id',
  'retry-after',
];

export const CORS_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'OPTIONS'];

/**
 * CORS for the cache routes only (the admin API and /metrics are not for browsers), for the
 * `cors` package on a raw request (RequestEnvelope). Preflights are answered there, before
 * routing, so OPTIONS never needs a token; no Location header is ever sent (turbo would follow it).
 */
export function cacheCorsFor(origins: '*' | string[]): CorsOptionsDelegate<CorsRequest> {
  const cache = cacheCorsOptions(origins);
  const none: CorsOptions = { origin: false };
  return (request, callback) =>
    callback(null, isCacheRoute(pathOf((request as IncomingMessage).url)) ? cache : none);
}

/** The CORS answer of every cache route. */
export function cacheCorsOptions(origins: '*' | string[]): CorsOptions {
  return {
    origin: origins,
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  };
}

/** The path of a raw URL, slashes collapsed as turbo's doubled ones are (app.factory.ts). */
function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0];
  return path.replace(/\/{2,}/g, '/');
}

function isCacheRoute(path: string): boolean {
  return CACHE_ROUTE_PREFIXES.some(
    (prefix) => path === `/${prefix}` || path.startsWith(`/${prefix}/`),
  );
}
