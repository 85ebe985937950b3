import { createHash } from 'node:crypto';
import { claimText } from './policy-conditions';
import {
  MAX_OVERLAY_SCOPE_LENGTH,
  OVERLAY_SCOPE_PATTERN,
  RESERVED_SCOPE,
} from '../trust/trust-tier';

/** `{claim}` placeholders of a scope template. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_.:-]{0,63})\}/g;
const MAX_TEMPLATE_LENGTH = 200;

export class InvalidScopeTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidScopeTemplateError';
  }
}

/** The claims a template names; InvalidScopeTemplateError when it names none or is too long. */
export function templateClaims(template: string): string[] {
  if (template.length === 0 || template.length > MAX_TEMPLATE_LENGTH) {
    throw new InvalidScopeTemplateError(`scope must be 1 to ${MAX_TEMPLATE_LENGTH} characters`);
  }
  const claims = [...template.matchAll(PLACEHOLDER)].map((match) => match[1]);
  if (claims.length === 0) {
    throw new InvalidScopeTemplateError(
      'scope must name at least one claim, e.g. "{repository_id}-{ref}" (a pull request ref, refs/pull/N/merge, is its own), so that pull requests do not share one overlay',
    );
  }
  if (
    template.replace(PLACEHOLDER, '').includes('{') ||
    template.replace(PLACEHOLDER, '').includes('}')
  ) {
    throw new InvalidScopeTemplateError('scope has an unbalanced or malformed {claim} placeholder');
  }
  return claims;
}

/**
 * The overlay scope a template gives for a verified token's claims, as a valid scope name
 * (trust/trust-tier.ts): placeholders replaced by claim values. When that text is not already
 * a valid scope name (a character outside `A-Za-z0-9._-`, such as the `/` of `feature/x`, a
 * leading `.`, over 64 characters, or `trusted`), it becomes its first 47 characters with every
 * other character turned into `-`, then `-` and 16 hex digits of the sha256 of the rendered
 * text: two different rendered texts (`feature/x`, `feature-x`) never share an overlay.
 * Returns the claims that are missing instead when a placeholder names an absent claim.
 */
export function renderScope(
  template: string,
  claims: Record<string, unknown>,
): { scope: string } | { missing: string[] } {
  const missing = templateClaims(template).filter(
    (claim) => claimText(claims[claim]) === undefined,
  );
  if (missing.length > 0) return { missing: [...new Set(missing)] };
  const rendered = template.replace(PLACEHOLDER, (_whole, claim: string) =>
    claimText(claims[claim])!,
  );
  if (OVERLAY_SCOPE_PATTERN.test(rendered) && rendered.toLowerCase() !== RESERVED_SCOPE) {
    return { scope: rendered };
  }
  const digest = createHash('sha256').update(rendered).digest('hex').slice(0, 16);
  const readable = rendered
    .slice(0, MAX_OVERLAY_SCOPE_LENGTH - 17)
    .replace(/[^A-Za-z0-9._-]/g, '-');
  const scope = `${readable}-${digest}`;
  // A readable part that starts with a character a scope may not start with gets a letter.
  return { scope: /^[A-Za-z0-9]/.test(scope) ? scope : `s${scope.slice(1)}` };
}
