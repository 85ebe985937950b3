import {
  conditionHolds,
  failedClaims,
  globMatches,
  InvalidConditionsError,
  parseConditions,
} from './policy-conditions';

describe('claim conditions', () => {
  it.each([
    [{ eq: 'acme/web' }, 'acme/web', true],
    [{ eq: 'acme/web' }, 'Acme/Web', false],
    [{ ieq: 'acme/web' }, 'Acme/Web', true],
    [{ in: ['refs/heads/main', 'refs/heads/release'] }, 'refs/heads/release', true],
    [{ in: ['refs/heads/main'] }, 'refs/heads/main2', false],
    [{ eq: '65' }, 65, true],
    [{ eq: 'true' }, true, true],
    [{ glob: 'feature/*' }, 'feature/x/y', true],
    [{ glob: 'feature/*' }, 'feature', false],
    [{ glob: 'v?.x' }, 'v1.x', true],
    [{ glob: 'v?.x' }, 'v10.x', false],
    [{ glob: 'a.b' }, 'aXb', false],
    [{ glob: 'release-(1)+' }, 'release-(1)+', true],
    [{ present: true }, 'anything', true],
    [{ present: true }, undefined, false],
    [{ present: true }, null, false],
    [{ present: false }, undefined, true],
    [{ eq: 'x' }, undefined, false],
    [{ eq: '[object Object]' }, { a: 1 }, false],
    [{ in: ['a,b'] }, ['a', 'b'], false],
  ])('%j against %j: %s', (condition, claim, holds) => {
    expect(conditionHolds(condition, claim)).toBe(holds);
  });

  it("treats a claim value's * and ? literally: they never widen a pattern", () => {
    expect(globMatches('release/*', '*')).toBe(false);
    expect(globMatches('release/v1', 'release/*')).toBe(false);
    expect(globMatches('release/?', '?')).toBe(false);
    expect(conditionHolds({ eq: 'refs/heads/main' }, '*')).toBe(false);
    expect(conditionHolds({ in: ['refs/heads/main'] }, 'refs/heads/*')).toBe(false);
    // A literal * in the claim only matches where the pattern itself allows any text.
    expect(globMatches('release/*', 'release/*')).toBe(true);
  });

  it('names the claims that fail, by name, never the expected values', () => {
    const conditions = parseConditions({
      repository_owner_id: { eq: '65' },
      ref: { in: ['refs/heads/main'] },
      event_name: { eq: 'push' },
    });
    expect(
      failedClaims(conditions, {
        repository_owner_id: '65',
        ref: 'refs/heads/x',
        event_name: 'pr',
      }),
    ).toEqual(['event_name', 'ref']);
    expect(
      failedClaims(conditions, {
        repository_owner_id: 65,
        ref: 'refs/heads/main',
        event_name: 'push',
      }),
    ).toEqual([]);
  });

  it.each([
    [null, 'must be an object'],
    [[], 'must be an object'],
    [{}, 'at least one claim'],
    [{ ref: 'main' }, 'must be an object such as'],
    [{ ref: { eq: 'a', in: ['b'] } }, 'exactly one of'],
    [{ ref: { like: 'a' } }, 'exactly one of'],
    [{ ref: { eq: '' } }, 'non-empty string'],
    [{ ref: { eq: 5 } }, 'non-empty string'],
    [{ ref: { in: [] } }, 'in must be 1 to'],
    [{ ref: { in: ['a', 5] } }, 'in must be 1 to'],
    [{ ref: { present: 'yes' } }, 'true or false'],
    [{ 'bad claim': { eq: 'a' } }, 'not a valid claim name'],
    [{ ref: { eq: 'x'.repeat(513) } }, 'at most 512'],
  ])('refuses %j', (value, message) => {
    expect(() => parseConditions(value)).toThrow(InvalidConditionsError);
    expect(() => parseConditions(value)).toThrow(message);
  });
});
