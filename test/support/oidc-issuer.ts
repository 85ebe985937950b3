import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
  type KeyLike,
} from 'jose';

/** Claims of a CI job token; a claim set to `undefined` is left out of the token. */
export type JobClaims = Record<string, unknown>;

/** The requests an issuer has answered, by what was asked. */
export interface IssuerRequests {
  discovery: number;
  jwks: number;
  other: number;
}

interface SigningKey {
  privateKey: KeyLike;
  publicJwk: JWK;
  /** The public key as PEM (SPKI): the "secret" of an HMAC key-confusion forgery. */
  publicPem: string;
  published: boolean;
}

const DISCOVERY_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/.well-known/jwks';

/** Seconds since the epoch by the issuer's own clock, which a test moving Date.now never moves. */
export function issuerNow(): number {
  return Math.floor(new Date().getTime() / 1000);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A minimal OpenID issuer on loopback (http://127.0.0.1:<random port>), as a CI's token service
 * looks to teamcache: a discovery document naming its JWKS, and RS256 keys made with jose. It
 * signs job tokens, adds keys (published or not yet), counts the requests it answers (to prove
 * a fetch did or did not happen), and makes forgeries: `alg: none` and an HS256 token keyed with
 * its public key.
 */
export class TestOidcIssuer {
  readonly requests: IssuerRequests = { discovery: 0, jwks: 0, other: 0 };
  private readonly keys = new Map<string, SigningKey>();
  /** The key id tokens are signed with unless another is asked for. */
  kid = '';

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** An issuer with one published key, listening on 127.0.0.1. */
  static async start(): Promise<TestOidcIssuer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = new TestOidcIssuer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    server.on('request', (req, res) => issuer.answer(req, res));
    issuer.kid = await issuer.addKey({ publish: true });
    return issuer;
  }

  /** Every request answered so far. */
  get requestCount(): number {
    return this.requests.discovery + this.requests.jwks + this.requests.other;
  }

  /** Generates an RS256 key; published in the JWKS only if asked (or later by `publish`). */
  async addKey(options: { publish: boolean }): Promise<string> {
    const kid = `key-${this.keys.size + 1}-${randomUUID().slice(0, 8)}`;
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    this.keys.set(kid, {
      privateKey,
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
      publicPem: await exportSPKI(publicKey),
      published: options.publish,
    });
    return kid;
  }

  /** Adds `kid` to the JWKS (a key rotation's first step). */
  publish(kid: string): void {
    this.key(kid).published = true;
  }

  /**
   * A job token signed RS256. Defaults: iss (this issuer), iat (now), exp (in 5 minutes), jti
   * (random); `claims` override them. `kid` picks the signing key; `headerKid` is the key id the
   * header names (default: `kid`), so a token can name a published key and be signed by another.
   */
  sign(claims: JobClaims, options: { kid?: string; headerKid?: string } = {}): Promise<string> {
    const kid = options.kid ?? this.kid;
    return new SignJWT(this.payload(claims))
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.headerKid ?? kid })
      .sign(this.key(kid).privateKey);
  }

  /** An unsigned token (`alg: none`, empty signature), built by hand as an attacker would. */
  unsigned(claims: JobClaims): string {
    return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(this.payload(claims))}.`;
  }

  /**
   * An HS256 token whose secret is the published key's PEM: accepted by a verifier that lets the
   * token's header choose the algorithm for a public key (RS256/HS256 key confusion).
   */
  hmacForgery(claims: JobClaims): Promise<string> {
    return new SignJWT(this.payload(claims))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.kid })
      .sign(new TextEncoder().encode(this.key(this.kid).publicPem));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private key(kid: string): SigningKey {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`issuer ${this.url} has no key ${kid}`);
    return key;
  }

  private payload(claims: JobClaims): JWTPayload {
    const now = issuerNow();
    const merged: JobClaims = { iss: this.url, iat: now, exp: now + 300, jti: randomUUID() };
    for (const [claim, value] of Object.entries(claims)) {
      if (value === undefined) delete merged[claim];
      else merged[claim] = value;
    }
    return merged as JWTPayload;
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', this.url).pathname;
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path === DISCOVERY_PATH) {
      this.requests.discovery++;
      send(200, {
        issuer: this.url,
        jwks_uri: `${this.url}${JWKS_PATH}`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
      return;
    }
    if (req.method === 'GET' && path === JWKS_PATH) {
      this.requests.jwks++;
      const published = [...this.keys.values()].filter((key) => key.published);
      send(200, { keys: published.map((key) => key.publicJwk) });
      return;
    }
    this.requests.other++;
    send(404, { error: 'not_found' });
  }
}

/**
 * The claims of a GitHub Actions job token (the names GitHub uses), for a push to main unless
 * `overrides` say otherwise (a key set to `undefined` is left out).
 */
export function githubJobClaims(overrides: JobClaims): JobClaims {
  return {
    sub: 'repo:acme/widgets:ref:refs/heads/main',
    repository: 'acme/widgets',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    ref_type: 'branch',
    sha: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    event_name: 'push',
    workflow: 'ci',
    actor: 'octocat',
    run_id: String(Math.floor(Math.random() * 1e9)),
    run_attempt: '1',
    ...overrides,
  };
}
