/** turbo calls /v8/artifacts; the published spec names the same routes without /v8. */
export const CACHE_ROUTE_PREFIXES = ['v8/artifacts', 'artifacts'];
