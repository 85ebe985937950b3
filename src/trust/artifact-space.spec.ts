import { AppException } from '../common/app-exception';
import {
  InconsistentSpaceError,
  locationOf,
  namespaceOf,
  readNamespacesOf,
  TRUSTED_NAMESPACE,
  visibleRow,
  writeNamespaceOf,
} from './artifact-space';
import { TrustTier } from './trust-tier';

const trusted = { teamId: 'team_a', tier: TrustTier.Trusted, overlayScope: null };
const prA = { teamId: 'team_a', tier: TrustTier.Untrusted, overlayScope: 'pr-a' };
const row = (overlay_scope: string) => ({ overlay_scope, id: overlay_scope || 'trusted' });

describe('artifact spaces (trust tiers)', () => {
  it('writes a trusted token to the trusted namespace and an untrusted one to its overlay only', () => {
    expect(writeNamespaceOf(trusted)).toBe(TRUSTED_NAMESPACE);
    expect(writeNamespaceOf(prA)).toBe('pr-a');
  });

  it('reads the trusted namespace first, then (untrusted only) its own overlay', () => {
    expect(readNamespacesOf(trusted)).toEqual([TRUSTED_NAMESPACE]);
    expect(readNamespacesOf(prA)).toEqual([TRUSTED_NAMESPACE, 'pr-a']);
  });

  it.each([
    ['trusted', trusted, ['', 'pr-a', 'pr-b'], 'trusted'],
    ['trusted', trusted, ['pr-a', 'pr-b'], undefined],
    ['untrusted', prA, ['pr-a', '', 'pr-b'], 'trusted'],
    ['untrusted', prA, ['pr-b', 'pr-a'], 'pr-a'],
    ['untrusted', prA, ['pr-b'], undefined],
    ['untrusted', prA, [], undefined],
  ])('gives a %s reader of rows in %j the right one', (_tier, space, scopes, expected) => {
    expect(visibleRow((scopes as string[]).map(row), space)?.id).toBe(expected);
  });

  it.each([
    [TrustTier.Untrusted, null],
    [TrustTier.Untrusted, ''],
    [TrustTier.Untrusted, undefined],
    [TrustTier.Trusted, 'pr-a'],
  ])('fails closed for a %s space with scope %j: never the trusted namespace', (tier, scope) => {
    const space = { teamId: 'team_a', tier, overlayScope: scope as string | null };
    expect(() => writeNamespaceOf(space)).toThrow(InconsistentSpaceError);
    expect(() => readNamespacesOf(space)).toThrow(InconsistentSpaceError);
  });

  it('names where a row lives from its namespace', () => {
    expect(locationOf(TRUSTED_NAMESPACE)).toEqual({ tier: TrustTier.Trusted, scope: null });
    expect(locationOf('pr-a')).toEqual({ tier: TrustTier.Untrusted, scope: 'pr-a' });
  });

  it('reads an admin\'s namespace name: "trusted" or a scope, else 400', () => {
    expect(namespaceOf('trusted')).toBe(TRUSTED_NAMESPACE);
    expect(namespaceOf('pr-a')).toBe('pr-a');
    expect(() => namespaceOf('')).toThrow(AppException);
    expect(() => namespaceOf('../x')).toThrow(/or "trusted"/);
  });
});
