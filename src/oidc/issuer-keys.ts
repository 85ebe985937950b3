import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import * as http from 'node:http';
import * as https from 'node:https';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DependencyUnavailableError } from '../common/domain-errors';

/** How long an issuer's discovery document (its jwks_uri) is kept. */
const DISCOVERY_TTL_MS = 60 * 60_000;
/** Keys are refetched on an unknown key id at most this often (issue 17: once a minute). */
export const JWKS_REFETCH_COOLDOWN_MS = 60_000;
/** Keys are refetched at least this often even when every key id is known. */
const JWKS_MAX_AGE_MS = 10 * 60_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * The signing keys of the allowed OIDC issuers (OIDC_ISSUERS): each issuer's discovery document
 * (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be the issuer itself) names
 * its `jwks_uri`, read with jose's remote key set (cached; refetched on an unknown `kid` at most
 * once a minute). Only https, except http on loopback with OIDC_ALLOW_HTTP_ISSUERS. An issuer not
 * allowed is never fetched. A failed fetch is a DependencyUnavailableError (503).
 */
@Injectable()
export class OidcIssuerKeys {
  private readonly allowed: Set<string>;
  private readonly allowHttp: boolean;
  private readonly keySets = new Map<string, { keys: JWTVerifyGetKey; until: number }>();
  /** Fetches in flight or done, per issuer: one discovery at a time. */
  private readonly loading = new Map<string, Promise<JWTVerifyGetKey>>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.allowed = new Set(config.oidc.issuers);
    this.allowHttp = config.oidc.allowHttp;
  }

  /** Whether OIDC_ISSUERS lists `issuer` (normalised: no trailing slash). */
  isAllowed(issuer: string): boolean {
    return this.allowed.has(issuer);
  }

  /** jose's key lookup for an allowed issuer (Error for one not allowed: a bug in the caller). */
  async keysOf(issuer: string): Promise<JWTVerifyGetKey> {
    if (!this.isAllowed(issuer)) throw new Error(`issuer ${issuer} is not in OIDC_ISSUERS`);
    const cached = this.keySets.get(issuer);
    if (cached && cached.until > Date.now()) return cached.keys;
    let loading = this.loading.get(issuer);
    if (!loading) {
      loading = this.discover(issuer).finally(() => this.loading.delete(issuer));
      this.loading.set(issuer, loading);
    }
    return loading;
  }

  private async discover(issuer: string): Promise<JWTVerifyGetKey> {
    const document = await this.fetchJson(`${issuer}/.well-known/openid-configuration`);
    if (document.issuer !== issuer && document.issuer !== `${issuer}/`) {
      throw new DependencyUnavailableError(
        `the discovery document of ${issuer} names another issuer (${JSON.stringify(document.issuer)})`,
      );
    }
    if (typeof document.jwks_uri !== 'string') {
      throw new DependencyUnavailableError(`the discovery document of ${issuer} has no jwks_uri`);
    }
    const jwksUri = this.checkedUrl(document.jwks_uri, issuer);
    const keys = createRemoteJWKSet(jwksUri, {
      cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      timeoutDuration: FETCH_TIMEOUT_MS,
    });
    this.keySets.set(issuer, { keys, until: Date.now() + DISCOVERY_TTL_MS });
    return keys;
  }

  /** `value` as a URL we may fetch: https, or http on loopback when allowed. */
  private checkedUrl(value: string, issuer: string): URL {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new DependencyUnavailableError(`${issuer} names a jwks_uri that is not a URL`);
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(this.allowHttp && url.protocol === 'http:' && loopback)) {
      throw new DependencyUnavailableError(`${issuer} names a jwks_uri that is not https`);
    }
    return url;
  }

  /** GET a JSON document (at most 256 KiB, 5 s), or DependencyUnavailableError. */
  private fetchJson(address: string): Promise<Record<string, unknown>> {
    const url = this.checkedUrl(address, address);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new DependencyUnavailableError(`could not read ${address}: ${why}`));
      const request = client.get(url, { timeout: FETCH_TIMEOUT_MS }, (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          fail(`HTTP ${response.statusCode}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_DOCUMENT_BYTES) {
            request.destroy();
            fail('document too large');
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          try {
            const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
            resolve(parsed as Record<string, unknown>);
          } catch (error) {
            fail(`not a JSON object (${(error as Error).message})`);
          }
        });
        response.on('error', (error) => fail(error.message));
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) => fail(error.message));
    });
  }
}
