import { TokenScope } from '../tokens/token-scope';
import { TrustTier } from '../trust/trust-tier';
import {
  InvalidConditionsError,
  parseConditions,
  type PolicyConditions,
} from './policy-conditions';
import { InvalidScopeTemplateError, templateClaims } from './scope-template';

/**
 * The claims that pin a policy to one owner or project by an id that never changes hands
 * (issue 17): a name (`repository`, `repository_owner`, `namespace_path`) can be renamed and
 * then registered by someone else; these ids cannot. GitHub: `repository_owner_id`,
 * `repository_id`; GitLab: `namespace_id`, `project_id`.
 */
export const PIN_CLAIMS = ['repository_owner_id', 'repository_id', 'namespace_id', 'project_id'];
/** Exchanged token lifetime in seconds: default 1 h, at most 6 h, at least 1 min. */
export const TTL_SECONDS = { default: 3_600, min: 60, max: 21_600 };
const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_AUDIENCE_LENGTH = 200;

/**
 * What a team's trust policy says (issue 17): a CI job's OIDC token from `issuer`, for
 * `audience`, whose claims meet every condition, is exchanged for a teamcache token with this
 * access and tier (and, untrusted, the overlay scope rendered from `scope`), living `ttlSeconds`.
 */
export interface TrustPolicySpec {
  name: string;
  issuer: string;
  audience: string;
  conditions: PolicyConditions;
  access: TokenScope;
  tier: TrustTier;
  /** Untrusted only: the overlay scope template, e.g. "{repository_id}-{ref}". */
  scope: string | null;
  ttlSeconds: number;
}

export class InvalidTrustPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTrustPolicyError';
  }
}

/** An issuer URL as compared: no trailing slash. */
export function normaliseIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '');
}

/**
 * `value` (the JSON an admin posts) as a TrustPolicySpec, or InvalidTrustPolicyError with the
 * rule it breaks. `allowedIssuers`: OIDC_ISSUERS, normalised. Refused: an issuer not allowed; an
 * audience that is a CI default (the issuer itself, a URL on the issuer's host, or on github.com:
 * GitHub's default audience is https://github.com/<owner>), since any job of that CI can get a
 * token for it; conditions without an exact (`eq`/`in`) pin on PIN_CLAIMS; a scope on a trusted
 * policy, or none on an untrusted one; a lifetime outside TTL_SECONDS.
 */
export function parseTrustPolicy(
  value: unknown,
  allowedIssuers: readonly string[],
): TrustPolicySpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidTrustPolicyError('a policy must be a JSON object');
  }
  const input = value as Record<string, unknown>;
  const known = [
    'name',
    'issuer',
    'audience',
    'conditions',
    'access',
    'tier',
    'scope',
    'ttlSeconds',
  ];
  const unknown = Object.keys(input).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new InvalidTrustPolicyError(
      `unknown field(s): ${unknown.join(', ')} (fields: ${known.join(', ')})`,
    );
  }
  const { name, issuer, audience, access, tier, scope, ttlSeconds } = input;
  if (typeof name !== 'string' || !POLICY_NAME.test(name)) {
    throw new InvalidTrustPolicyError(
      'name must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  if (typeof issuer !== 'string' || !allowedIssuers.includes(normaliseIssuer(issuer))) {
    throw new InvalidTrustPolicyError(
      `issuer must be one of OIDC_ISSUERS (${allowedIssuers.join(', ') || 'none configured'})`,
    );
  }
  const iss = normaliseIssuer(issuer);
  checkAudience(audience, iss);
  let conditions: PolicyConditions;
  try {
    conditions = parseConditions(input.conditions);
  } catch (error) {
    if (error instanceof InvalidConditionsError) throw new InvalidTrustPolicyError(error.message);
    throw error;
  }
  const pinned = PIN_CLAIMS.some((claim) => {
    const condition = conditions[claim];
    return condition !== undefined && ('eq' in condition || 'in' in condition);
  });
  if (!pinned) {
    throw new InvalidTrustPolicyError(
      `conditions must pin an owner or project by id with eq or in: one of ${PIN_CLAIMS.join(', ')} (names can be renamed and re-registered; ids cannot)`,
    );
  }
  if (access !== TokenScope.ReadWrite && access !== TokenScope.ReadOnly) {
    throw new InvalidTrustPolicyError('access must be "read-write" or "read-only"');
  }
  if (tier !== TrustTier.Trusted && tier !== TrustTier.Untrusted) {
    throw new InvalidTrustPolicyError('tier must be "trusted" or "untrusted"');
  }
  let template: string | null = null;
  if (tier === TrustTier.Trusted) {
    if (scope !== undefined && scope !== null) {
      throw new InvalidTrustPolicyError('scope is for untrusted policies only');
    }
  } else {
    if (typeof scope !== 'string') {
      throw new InvalidTrustPolicyError(
        'an untrusted policy needs a scope template, e.g. "{repository_id}-{ref}" (GitHub: a pull request ref, refs/pull/N/merge, is its own; head_ref is a branch name two forks may share) or "{project_id}-{ref}" (GitLab)',
      );
    }
    try {
      templateClaims(scope);
    } catch (error) {
      if (error instanceof InvalidScopeTemplateError)
        throw new InvalidTrustPolicyError(error.message);
      throw error;
    }
    template = scope;
  }
  const ttl = ttlSeconds ?? TTL_SECONDS.default;
  if (
    typeof ttl !== 'number' ||
    !Number.isInteger(ttl) ||
    ttl < TTL_SECONDS.min ||
    ttl > TTL_SECONDS.max
  ) {
    throw new InvalidTrustPolicyError(
      `ttlSeconds must be a whole number from ${TTL_SECONDS.min} to ${TTL_SECONDS.max} (6 h)`,
    );
  }
  return {
    name,
    issuer: iss,
    audience: audience as string,
    conditions,
    access,
    tier,
    scope: template,
    ttlSeconds: ttl,
  };
}

function checkAudience(audience: unknown, issuer: string): void {
  if (
    typeof audience !== 'string' ||
    audience.length === 0 ||
    audience.length > MAX_AUDIENCE_LENGTH
  ) {
    throw new InvalidTrustPolicyError(
      `audience must be teamcache's own (e.g. its URL), 1 to ${MAX_AUDIENCE_LENGTH} characters`,
    );
  }
  const issuerHost = new URL(issuer).host.toLowerCase();
  let audienceHost: string | undefined;
  try {
    audienceHost = new URL(audience).host.toLowerCase();
  } catch {
    audienceHost = undefined;
  }
  const ciDefault =
    normaliseIssuer(audience) === issuer ||
    audienceHost === issuerHost ||
    audienceHost === 'github.com' ||
    audienceHost === 'www.github.com';
  if (ciDefault) {
    throw new InvalidTrustPolicyError(
      "audience must be teamcache's own (e.g. its URL), never the CI's default (the issuer, or https://github.com/<owner>): any job of that CI can get a token for it",
    );
  }
}
