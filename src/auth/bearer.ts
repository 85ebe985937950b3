/**
 * The token of an `Authorization: Bearer <token>` header, or null. Case-insensitive scheme, as
 * RFC 6750 allows; one token, nothing after it. Every frontend reads the header through this.
 */
export function bearerToken(header: string | undefined): string | null {
  const match = /^bearer +(\S+) *$/i.exec(header ?? '');
  return match ? match[1] : null;
}
