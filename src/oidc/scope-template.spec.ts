import { parseOverlayScope } from '../trust/trust-tier';
import { InvalidScopeTemplateError, renderScope, templateClaims } from './scope-template';

describe('scope templates', () => {
  it('renders claims into a valid scope name as they are when they already are one', () => {
    expect(
      renderScope('{repository_id}-{head_ref}', { repository_id: 123, head_ref: 'fix-1' }),
    ).toEqual({ scope: '123-fix-1' });
  });

  it('makes any other text a valid scope name, distinct for distinct texts', () => {
    const a = renderScope('{repository_id}:{head_ref}', {
      repository_id: '1',
      head_ref: 'feature/x',
    });
    const b = renderScope('{repository_id}:{head_ref}', {
      repository_id: '1',
      head_ref: 'feature-x',
    });
    const c = renderScope('{repository_id}:{head_ref}', {
      repository_id: '1',
      head_ref: 'feature:x',
    });
    const scopes = [a, b, c].map((r) => ('scope' in r ? r.scope : ''));
    for (const scope of scopes) expect(parseOverlayScope(scope)).toBe(scope);
    expect(new Set(scopes).size).toBe(3);
    expect(scopes[0]).toMatch(/^1-feature-x-[0-9a-f]{16}$/);
  });

  it('shortens a long name to 64 characters, keeping it distinct', () => {
    const long = (ref: string) => renderScope('{r}-{ref}', { r: 'x'.repeat(70), ref });
    const [one, two] = [long('a'), long('b')].map((r) => ('scope' in r ? r.scope : ''));
    expect(one).toHaveLength(64);
    expect(one).not.toBe(two);
    expect(parseOverlayScope(one)).toBe(one);
  });

  it('never renders the reserved name or a leading punctuation mark', () => {
    const reserved = renderScope('{t}', { t: 'trusted' });
    const dotted = renderScope('{t}', { t: '.hidden' });
    for (const result of [reserved, dotted]) {
      const scope = 'scope' in result ? result.scope : '';
      expect(parseOverlayScope(scope)).toBe(scope);
    }
  });

  it('names the claims a token lacks', () => {
    expect(renderScope('{repository_id}-{head_ref}', { repository_id: 1 })).toEqual({
      missing: ['head_ref'],
    });
    expect(renderScope('{a}-{a}', { a: { nested: true } })).toEqual({ missing: ['a'] });
  });

  it.each([
    ['', 'characters'],
    ['static', 'at least one claim'],
    ['{repository_id}-{', 'malformed'],
    ['x'.repeat(201), 'characters'],
  ])('refuses the template %j', (template, message) => {
    expect(() => templateClaims(template)).toThrow(InvalidScopeTemplateError);
    expect(() => templateClaims(template)).toThrow(message);
  });
});
