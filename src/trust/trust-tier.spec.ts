import {
  defaultOverlayScope,
  InvalidOverlayScopeError,
  MAX_OVERLAY_SCOPE_LENGTH,
  parseOverlayScope,
} from './trust-tier';

describe('parseOverlayScope', () => {
  it.each(['pr-123', 'PR_7', 'release.2026', 'a', 'x'.repeat(MAX_OVERLAY_SCOPE_LENGTH)])(
    'takes %s',
    (scope) => expect(parseOverlayScope(scope)).toBe(scope),
  );

  it.each([
    '',
    '-pr',
    '.hidden',
    'refs/pull/1',
    'pr 1',
    'pr:1',
    'x'.repeat(MAX_OVERLAY_SCOPE_LENGTH + 1),
    'prü',
    'trusted',
    'Trusted',
    7,
    null,
  ])('refuses %j', (scope) => {
    expect(() => parseOverlayScope(scope)).toThrow(InvalidOverlayScopeError);
  });

  it('gives an untrusted token without a scope one of its own, which is a valid scope name', () => {
    const id = '6f1c2f0e-8a4b-4c1d-9e2f-3a4b5c6d7e8f';
    expect(defaultOverlayScope(id)).toBe(`token-${id}`);
    expect(parseOverlayScope(defaultOverlayScope(id))).toBe(`token-${id}`);
  });
});

it('says why "trusted" is refused', () => {
  expect(() => parseOverlayScope('trusted')).toThrow(/reserved/);
});
