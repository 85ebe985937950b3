import { HttpStatus, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import {
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
} from 'jose';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import { DependencyUnavailableError } from '../common/domain-errors';
import { ErrorCode } from '../common/error-codes';
import { AuthFailureLimiter } from '../rate-limit/auth-failure.limiter';
import { MetricsService } from '../metrics/metrics.service';
import { TeamsService } from '../teams/teams.service';
import { TokenScope } from '../tokens/token-scope';
import { TokensService } from '../tokens/tokens.service';
import { TrustTier } from '../trust/trust-tier';
import { OidcIssuerKeys } from './issuer-keys';
import type { OidcPolicy } from './oidc-policy.entity';
import { failedClaims } from './policy-conditions';
import { renderScope } from './scope-template';
import { normaliseIssuer } from './trust-policy';
import { TrustPoliciesService } from './trust-policies.service';

/** RFC 8693 names (the ones Vercel's and npm's OIDC clients send). */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Only asymmetric signatures: an HMAC key would be a secret shared with the CI (issue 17). */
export const OIDC_ALGORITHMS = ['RS256', 'ES256'];
/** Allowed clock skew for exp, nbf and iat, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;
const MAX_SUBJECT_TOKEN_LENGTH = 16 * 1024;
/** Claims of the CI job kept with an exchanged token (GitHub Actions and GitLab CI names). */
const JOB_CLAIMS = [
  'iss',
  'sub',
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'ref',
  'sha',
  'event_name',
  'head_ref',
  'run_id',
  'run_attempt',
  'workflow',
  'actor',
  'environment',
  'project_path',
  'project_id',
  'namespace_path',
  'namespace_id',
  'pipeline_id',
  'pipeline_source',
  'job_id',
  'ref_type',
  'ref_protected',
];
const JTI_SWEEP_MS = 10 * 60_000;

/** The exchange request: the RFC 8693 form fields plus the team (and, optionally, the policy). */
export interface ExchangeRequest {
  grant_type?: unknown;
  subject_token_type?: unknown;
  subject_token?: unknown;
  team?: unknown;
  policy?: unknown;
}

/** The answer of a successful exchange (RFC 8693 2.2.1, plus team and tier). */
export interface ExchangeAnswer {
  access_token: string;
  issued_token_type: typeof ACCESS_TOKEN_TYPE;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  /** The team's slug (TURBO_TEAM). */
  team: string;
  tier: TrustTier;
  /** read-write or read-only. */
  access: TokenScope;
  /** The overlay scope of an untrusted token; absent for a trusted one. */
  scope?: string;
  /** The policy that matched. */
  policy: string;
}

function invalidGrant(message: string): AppException {
  return new AppException(HttpStatus.UNAUTHORIZED, ErrorCode.InvalidGrant, message);
}

/**
 * CI identity (issue 17): exchanges a CI job's OIDC token for a short-lived teamcache token.
 * Order: a client blocked for failed attempts (429); the form; the CI token's issuer must be in
 * OIDC_ISSUERS (else refused without fetching anything), its algorithm RS256 or ES256, its
 * signature one of the issuer's keys (OidcIssuerKeys), exp/nbf/iat within CLOCK_SKEW_SECONDS;
 * then the team's policies for that issuer (the `policy` named, or all): exactly one must match
 * (audience and every condition; a refusal names the claims that failed, never the values a
 * policy expects); then the token's `jti` is spent (a CI token is exchanged once); then a cache
 * token is issued with the policy's access, tier, rendered scope and lifetime, recorded with the
 * policy and the job. Refusals: 400 (form, ambiguity), 401 invalid_grant (the CI token or no
 * matching policy; counted as failed logins), 503 (issuer unreachable).
 */
@Injectable()
export class OidcExchangeService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OidcExchangeService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: OidcIssuerKeys,
    private readonly policies: TrustPoliciesService,
    private readonly teams: TeamsService,
    private readonly tokens: TokensService,
    private readonly failures: AuthFailureLimiter,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.forgetExpiredJtis(), JTI_SWEEP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async exchange(request: ExchangeRequest, client: string): Promise<ExchangeAnswer> {
    try {
      this.failures.assertNotBlocked(client);
      const answer = await this.exchangeVerified(readForm(request));
      this.metrics.recordOidcExchange(
        answer.tier === TrustTier.Trusted ? 'issued_trusted' : 'issued_untrusted',
      );
      return answer;
    } catch (error) {
      const status = error instanceof AppException ? error.getStatus() : 500;
      this.metrics.recordOidcExchange(status < 500 ? 'refused' : 'failed');
      if (status === 401) await this.failures.recordFailure(client);
      throw error;
    }
  }

  private async exchangeVerified(form: Form): Promise<ExchangeAnswer> {
    const { issuer, claims } = await this.verify(form.subjectToken);
    const team = await this.teams.get(form.team);
    const candidates = (await this.policies.forIssuer(team.id, issuer)).filter(
      (policy) =>
        form.policy === undefined || policy.name === form.policy || policy.id === form.policy,
    );
    if (candidates.length === 0) {
      throw invalidGrant(
        form.policy === undefined
          ? `team ${team.slug} has no trust policy for issuer ${issuer}`
          : `team ${team.slug} has no trust policy ${form.policy} for issuer ${issuer}`,
      );
    }
    const verdicts = candidates.map((policy) => ({ policy, failed: failuresOf(policy, claims) }));
    const matches = verdicts.filter((verdict) => verdict.failed.length === 0);
    if (matches.length === 0) {
      const why = verdicts
        .map((verdict) => `policy ${verdict.policy.name}: ${verdict.failed.join(', ')}`)
        .join('; ');
      throw invalidGrant(
        `no trust policy of team ${team.slug} matches this token (claims that do not match: ${why})`,
      );
    }
    if (matches.length > 1) {
      throw AppException.badRequest(
        `trust policies ${matches.map((m) => m.policy.name).join(', ')} of team ${team.slug} all match this token: name one with policy=<name>`,
      );
    }
    const policy = matches[0].policy;
    let overlayScope: string | undefined;
    if (policy.tier === TrustTier.Untrusted) {
      const rendered = renderScope(policy.scopeTemplate ?? '', claims);
      if ('missing' in rendered) {
        throw invalidGrant(
          `policy ${policy.name} builds its scope from claims this token lacks: ${rendered.missing.join(', ')}`,
        );
      }
      overlayScope = rendered.scope;
    }
    await this.spend(issuer, claims);
    const job = jobOf(claims);
    const issued = await this.tokens.issue(team.id, {
      name: tokenName(policy, job),
      readOnly: policy.access === TokenScope.ReadOnly,
      tier: policy.tier,
      overlayScope,
      lifetimeSeconds: policy.ttlSeconds,
      oidc: { policyId: policy.id, job },
    });
    this.logger.log(
      `OIDC exchange: policy ${policy.name} of team ${team.slug} issued token ${issued.id} (${policy.tier}, ${policy.access}) to ${job.sub ?? 'a job'}`,
    );
    return {
      access_token: issued.token,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: policy.ttlSeconds,
      team: team.slug,
      tier: policy.tier,
      access: policy.access,
      ...(overlayScope === undefined ? {} : { scope: overlayScope }),
      policy: policy.name,
    };
  }

  /** The verified claims of a CI token, or a 401 naming what is wrong with it (503: issuer down). */
  private async verify(token: string): Promise<{ issuer: string; claims: JWTPayload }> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw invalidGrant('subject_token is not a signed JWT');
    }
    if (typeof unverified.iss !== 'string')
      throw invalidGrant('the CI token names no issuer (iss)');
    const issuer = normaliseIssuer(unverified.iss);
    // Before any fetch: an issuer not allowed is never contacted.
    if (!this.keys.isAllowed(issuer)) {
      throw invalidGrant(`issuer ${issuer} is not allowed (OIDC_ISSUERS)`);
    }
    if (typeof header.alg !== 'string' || !OIDC_ALGORITHMS.includes(header.alg)) {
      throw invalidGrant(
        `the CI token's algorithm ${JSON.stringify(header.alg)} is not accepted (${OIDC_ALGORITHMS.join(', ')} only)`,
      );
    }
    let claims: JWTPayload;
    try {
      const keys = await this.keys.keysOf(issuer);
      ({ payload: claims } = await jwtVerify(token, keys, {
        issuer: [issuer, `${issuer}/`],
        algorithms: OIDC_ALGORITHMS,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['exp', 'iat', 'jti'],
      }));
    } catch (error) {
      const failure = verificationFailure(error);
      // The CI user sees which issuer could not be read (its URL is public), not a bare 503.
      if (failure instanceof DependencyUnavailableError) {
        throw AppException.unavailable(`issuer ${issuer}: ${failure.message}`);
      }
      throw failure;
    }
    if ((claims.iat as number) > Date.now() / 1000 + CLOCK_SKEW_SECONDS) {
      throw invalidGrant('the CI token was issued in the future (iat)');
    }
    if (typeof claims.jti !== 'string' || claims.jti.length > 256) {
      throw invalidGrant('the CI token has no usable id (jti)');
    }
    return { issuer, claims };
  }

  /** Records the CI token's jti until it expires; 401 if it was exchanged before. */
  private async spend(issuer: string, claims: JWTPayload): Promise<void> {
    // TypeORM answers an INSERT ... RETURNING with the returned rows (not [rows, count]).
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO oidc_used_jtis (issuer, jti, expires_at)
       VALUES ($1, $2, to_timestamp($3) + make_interval(secs => $4))
       ON CONFLICT DO NOTHING RETURNING 1`,
      [issuer, claims.jti, claims.exp, CLOCK_SKEW_SECONDS],
    );
    if (rows.length === 0) throw invalidGrant('this CI token was already exchanged (jti)');
  }

  /** Forgets spent jtis of CI tokens that have expired (they can never verify again). */
  async forgetExpiredJtis(): Promise<void> {
    try {
      await this.dataSource.query('DELETE FROM oidc_used_jtis WHERE expires_at < now()');
    } catch (error) {
      this.logger.warn(`could not forget expired OIDC token ids: ${(error as Error).message}`);
    }
  }
}

interface Form {
  subjectToken: string;
  team: string;
  policy?: string;
}

/** The exchange form, or 400 (unsupported_grant_type for another grant). */
function readForm(request: ExchangeRequest): Form {
  if (request.grant_type !== TOKEN_EXCHANGE_GRANT) {
    throw new AppException(
      HttpStatus.BAD_REQUEST,
      ErrorCode.UnsupportedGrantType,
      `grant_type must be ${TOKEN_EXCHANGE_GRANT}`,
    );
  }
  if (
    request.subject_token_type !== ID_TOKEN_TYPE &&
    request.subject_token_type !== JWT_TOKEN_TYPE
  ) {
    throw AppException.badRequest(`subject_token_type must be ${ID_TOKEN_TYPE}`);
  }
  const token = request.subject_token;
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_SUBJECT_TOKEN_LENGTH) {
    throw AppException.badRequest("subject_token must be the CI job's OIDC token (a JWT)");
  }
  if (typeof request.team !== 'string' || request.team.length === 0) {
    throw AppException.badRequest('team must name the team (slug or id)');
  }
  if (request.policy !== undefined && typeof request.policy !== 'string') {
    throw AppException.badRequest('policy must be a policy name or id');
  }
  return { subjectToken: token, team: request.team, policy: request.policy };
}

/** The claims of `claims` that fail `policy` (its audience counts as the claim `aud`). */
function failuresOf(policy: OidcPolicy, claims: JWTPayload): string[] {
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : (claims.aud ?? []);
  const failed = audiences.includes(policy.audience) ? [] : ['aud'];
  return [...failed, ...failedClaims(policy.conditions, claims as Record<string, unknown>)];
}

function jobOf(claims: JWTPayload): Record<string, string> {
  const job: Record<string, string> = {};
  for (const claim of JOB_CLAIMS) {
    const value = (claims as Record<string, unknown>)[claim];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      job[claim] = String(value).slice(0, 200);
    }
  }
  return job;
}

/** `<policy> <repository>@<ref>` within the 100 characters of a token name. */
function tokenName(policy: OidcPolicy, job: Record<string, string>): string {
  const where = job.repository ?? job.project_path;
  const ref = job.ref;
  const name = where
    ? `oidc:${policy.name} ${where}${ref ? `@${ref}` : ''}`
    : `oidc:${policy.name}`;
  return name.slice(0, 100);
}

/** jose's verification errors as the refusals a CI user can act on (503 for an unreachable issuer). */
function verificationFailure(error: unknown): Error {
  if (error instanceof joseErrors.JWTExpired) return invalidGrant('the CI token has expired (exp)');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return invalidGrant('the CI token is not valid yet (nbf)');
    return invalidGrant(`the CI token's ${error.claim} claim is not acceptable (${error.reason})`);
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) {
    return invalidGrant("no key of the issuer matches the CI token's key id (kid)");
  }
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return invalidGrant("several keys of the issuer match the CI token's key id (kid)");
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return invalidGrant("the CI token's signature does not verify");
  }
  if (
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JOSENotSupported
  ) {
    return invalidGrant(
      `the CI token's algorithm is not accepted (${OIDC_ALGORITHMS.join(', ')} only)`,
    );
  }
  if (error instanceof joseErrors.JWTInvalid || error instanceof joseErrors.JWSInvalid) {
    return invalidGrant(`the CI token is malformed: ${(error as Error).message}`);
  }
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new DependencyUnavailableError(
      `the issuer's keys could not be read: ${(error as Error).message}`,
    );
  }
  if (error instanceof AppException || error instanceof DependencyUnavailableError) return error;
  // A fetch of the key set that failed (connection refused, HTTP error) is an issuer outage.
  return new DependencyUnavailableError(
    `the issuer's keys could not be read: ${(error as Error)?.message ?? error}`,
  );
}
