import { ValidateBy } from 'class-validator';

/**
 * What every secret in .env.example starts with. A deployment that copied the file and forgot to
 * edit a secret would run with a value published in this repository: refuse it instead.
 */
export const PLACEHOLDER_MARK = 'change-me';

export function isPlaceholderSecret(value: unknown): boolean {
  return typeof value === 'string' && value.toLowerCase().includes(PLACEHOLDER_MARK);
}

/** Rejects a secret (or a URL embedding one) that still holds the .env.example placeholder. */
export function NotPlaceholder(): PropertyDecorator {
  return ValidateBy({
    name: 'notPlaceholder',
    validator: {
      validate: (value: unknown) => !isPlaceholderSecret(value),
      defaultMessage: () =>
        `still holds the .env.example placeholder "${PLACEHOLDER_MARK}..."; set a real secret (e.g. openssl rand -hex 32)`,
    },
  });
}
