/** The OIDC issuers a deployment allows by default: GitHub Actions and gitlab.com (issue 17). */
export const DEFAULT_OIDC_ISSUERS =
  'https://token.actions.githubusercontent.com,https://gitlab.com';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * OIDC_ISSUERS (comma-separated issuer URLs) as normalised issuers (no trailing slash), or an
 * error message. Each must be an https URL without query or fragment; `allowHttp`
 * (OIDC_ALLOW_HTTP_ISSUERS, for tests) also lets an http issuer on a loopback host in, and
 * nothing else. An empty value allows no issuer (the exchange is then off).
 */
export function parseOidcIssuers(value: string, allowHttp: boolean): string[] | { error: string } {
  const issuers: string[] = [];
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      return { error: `OIDC_ISSUERS has ${JSON.stringify(entry)}, which is not a URL` };
    }
    const loopbackHttp = allowHttp && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
    if (url.protocol !== 'https:' && !loopbackHttp) {
      return {
        error: `OIDC_ISSUERS must list https URLs (got ${JSON.stringify(entry)}; OIDC_ALLOW_HTTP_ISSUERS=true lets http://127.0.0.1 in, for tests only)`,
      };
    }
    if (url.search || url.hash || url.username || url.password) {
      return {
        error: `OIDC_ISSUERS has ${JSON.stringify(entry)}: an issuer URL has no query, fragment or credentials`,
      };
    }
    issuers.push(entry.replace(/\/+$/, ''));
  }
  return [...new Set(issuers)];
}
