import { InvalidTrustPolicyError, parseTrustPolicy, TTL_SECONDS } from './trust-policy';

const GITHUB = 'https://token.actions.githubusercontent.com';
const ISSUERS = [GITHUB, 'https://gitlab.com'];
const main = {
  name: 'main',
  issuer: GITHUB,
  audience: 'https://cache.example.com',
  conditions: {
    repository_owner_id: { eq: '65' },
    ref: { in: ['refs/heads/main'] },
    event_name: { eq: 'push' },
  },
  access: 'read-write',
  tier: 'trusted',
};
const pr = {
  ...main,
  name: 'pr',
  conditions: { repository_id: { eq: '1234' }, event_name: { eq: 'pull_request' } },
  tier: 'untrusted',
  scope: '{repository_id}-{head_ref}',
};

describe('parseTrustPolicy', () => {
  it('takes a trusted policy, with the default lifetime of 1 h', () => {
    expect(parseTrustPolicy(main, ISSUERS)).toEqual({ ...main, scope: null, ttlSeconds: 3_600 });
  });

  it('takes an untrusted policy with its scope template, and a GitLab one pinned on project_id', () => {
    expect(parseTrustPolicy({ ...pr, ttlSeconds: 600 }, ISSUERS)).toMatchObject({
      tier: 'untrusted',
      scope: '{repository_id}-{head_ref}',
      ttlSeconds: 600,
    });
    expect(
      parseTrustPolicy(
        {
          ...main,
          issuer: 'https://gitlab.com/',
          conditions: { project_id: { in: ['42'] }, ref_protected: { eq: 'true' } },
        },
        ISSUERS,
      ).issuer,
    ).toBe('https://gitlab.com');
  });

  it.each([
    ['an issuer not in OIDC_ISSUERS', { ...main, issuer: 'https://evil.example' }, 'OIDC_ISSUERS'],
    [
      'no owner or project pin',
      { ...main, conditions: { ref: { eq: 'refs/heads/main' } } },
      'must pin',
    ],
    [
      'a pin by name only',
      { ...main, conditions: { repository_owner: { eq: 'acme' } } },
      'must pin',
    ],
    ['a pin by glob', { ...main, conditions: { repository_owner_id: { glob: '6*' } } }, 'must pin'],
    ['the issuer as audience', { ...main, audience: GITHUB }, "never the CI's default"],
    ["GitHub's default audience", { ...main, audience: 'https://github.com/acme' }, 'default'],
    ['an audience on the issuer host', { ...main, audience: `${GITHUB}/x` }, 'default'],
    ['an empty audience', { ...main, audience: '' }, 'audience must be'],
    [
      'a scope on a trusted policy',
      { ...main, scope: '{repository_id}' },
      'untrusted policies only',
    ],
    ['an untrusted policy without scope', { ...pr, scope: undefined }, 'needs a scope'],
    ['a scope naming no claim', { ...pr, scope: 'shared' }, 'at least one claim'],
    ['a lifetime over 6 h', { ...main, ttlSeconds: TTL_SECONDS.max + 1 }, 'ttlSeconds'],
    ['a lifetime under a minute', { ...main, ttlSeconds: 59 }, 'ttlSeconds'],
    ['an unknown access', { ...main, access: 'admin' }, 'access must be'],
    ['an unknown tier', { ...main, tier: 'half' }, 'tier must be'],
    ['a bad name', { ...main, name: 'my policy' }, 'name must be'],
    ['an unknown field', { ...main, subject: 'repo:acme/*' }, 'unknown field(s): subject'],
    ['not an object', 'main', 'JSON object'],
  ])('refuses %s', (_what, value, message) => {
    expect(() => parseTrustPolicy(value, ISSUERS)).toThrow(InvalidTrustPolicyError);
    expect(() => parseTrustPolicy(value, ISSUERS)).toThrow(message);
  });
});
