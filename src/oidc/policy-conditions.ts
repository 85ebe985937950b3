/**
 * The claim conditions of a trust policy (issue 17) and how a CI job's OIDC token is checked
 * against them. Every condition must hold. Claim values are compared as strings (numbers and
 * booleans as their JSON text); a claim that is an object or array never matches (only `present`
 * looks at it).
 *
 * - `{"eq": "v"}`: equal; `{"ieq": "v"}`: equal ignoring case (Unicode lower case);
 * - `{"in": ["a", "b"]}`: equal to one of them;
 * - `{"glob": "feature/*"}`: `*` any run of characters (also `/`), `?` one character; only the
 *   pattern's `*` and `?` are wildcards: a claim value containing `*` is matched literally, so it
 *   can never widen a pattern;
 * - `{"present": true}` / `{"present": false}`: the claim exists (not null) / does not.
 */
export type ClaimCondition =
  { eq: string } | { ieq: string } | { in: string[] } | { glob: string } | { present: boolean };

export type PolicyConditions = Record<string, ClaimCondition>;

const OPERATORS = ['eq', 'ieq', 'in', 'glob', 'present'] as const;
/** Bounds that keep a policy cheap to store and to evaluate. */
export const CONDITION_LIMITS = { claims: 32, claimName: 64, value: 512, inValues: 64 };
const CLAIM_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/;

export class InvalidConditionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConditionsError';
  }
}

/**
 * `value` (parsed JSON) as PolicyConditions, or InvalidConditionsError naming what is wrong:
 * an object of claim name -> one condition with exactly one operator.
 */
export function parseConditions(value: unknown): PolicyConditions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidConditionsError('conditions must be an object of claim name -> condition');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0)
    throw new InvalidConditionsError('conditions must name at least one claim');
  if (entries.length > CONDITION_LIMITS.claims) {
    throw new InvalidConditionsError(
      `conditions may name at most ${CONDITION_LIMITS.claims} claims`,
    );
  }
  const parsed: PolicyConditions = {};
  for (const [claim, condition] of entries) {
    if (!CLAIM_NAME.test(claim)) {
      throw new InvalidConditionsError(
        `claim name ${JSON.stringify(claim)} is not a valid claim name`,
      );
    }
    parsed[claim] = parseCondition(claim, condition);
  }
  return parsed;
}

function parseCondition(claim: string, condition: unknown): ClaimCondition {
  const where = `condition on ${claim}`;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
    throw new InvalidConditionsError(`${where} must be an object such as {"eq": "..."}`);
  }
  const keys = Object.keys(condition);
  if (keys.length !== 1 || !(OPERATORS as readonly string[]).includes(keys[0])) {
    throw new InvalidConditionsError(`${where} must have exactly one of ${OPERATORS.join(', ')}`);
  }
  const operator = keys[0] as (typeof OPERATORS)[number];
  const operand = (condition as Record<string, unknown>)[operator];
  if (operator === 'present') {
    if (typeof operand !== 'boolean')
      throw new InvalidConditionsError(`${where}: present must be true or false`);
    return { present: operand };
  }
  if (operator === 'in') {
    if (
      !Array.isArray(operand) ||
      operand.length === 0 ||
      operand.length > CONDITION_LIMITS.inValues ||
      !operand.every(isBoundedString)
    ) {
      throw new InvalidConditionsError(
        `${where}: in must be 1 to ${CONDITION_LIMITS.inValues} strings of at most ${CONDITION_LIMITS.value} characters`,
      );
    }
    return { in: operand as string[] };
  }
  if (!isBoundedString(operand) || operand === '') {
    throw new InvalidConditionsError(
      `${where}: ${operator} must be a non-empty string of at most ${CONDITION_LIMITS.value} characters`,
    );
  }
  if (operator === 'eq') return { eq: operand };
  if (operator === 'ieq') return { ieq: operand };
  return { glob: operand };
}

function isBoundedString(value: unknown): value is string {
  return typeof value === 'string' && value.length <= CONDITION_LIMITS.value;
}

/** A claim as conditions compare it: its string form, or undefined (absent, null, object). */
export function claimText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return undefined;
}

/** Whether `value` matches the glob `pattern` (`*`: any run, `?`: one character, else literal). */
export function globMatches(pattern: string, value: string): boolean {
  const source = [...pattern]
    .map((ch) =>
      ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 'u').test(value);
}

/** Whether one condition holds for a claim's raw value. */
export function conditionHolds(condition: ClaimCondition, raw: unknown): boolean {
  if ('present' in condition) return (raw !== undefined && raw !== null) === condition.present;
  const text = claimText(raw);
  if (text === undefined) return false;
  if ('eq' in condition) return text === condition.eq;
  if ('ieq' in condition) return text.toLowerCase() === condition.ieq.toLowerCase();
  if ('in' in condition) return condition.in.includes(text);
  return globMatches(condition.glob, text);
}

/**
 * The names of the claims whose conditions do not hold for `claims` (a verified token's
 * payload), sorted by name (stored conditions keep no order): empty when the policy matches. Refusals name these claims,
 * never the values a policy expects.
 */
export function failedClaims(
  conditions: PolicyConditions,
  claims: Record<string, unknown>,
): string[] {
  return Object.entries(conditions)
    .filter(([claim, condition]) => !conditionHolds(condition, claims[claim]))
    .map(([claim]) => claim)
    .sort();
}
