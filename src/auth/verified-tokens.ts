import { Injectable } from '@nestjs/common';
import { decode } from 'jsonwebtoken';
import type { CachePrincipal } from './cache-principal';
import { TtlCache } from './ttl-cache';

/**
 * How long a verified token is trusted without verifying it again. Its team and token records
 * come from AuthLookups (cached up to 3 s), so a revocation or pause lands within 4.5 s.
 */
export const VERIFIED_TTL_MS = 1_500;
const MAX_TOKENS = 10_000;

interface Verified {
  principal: CachePrincipal;
  /** The token's own expiry (ms), checked on every use of the cached verification. */
  expiresAtMs: number;
}

/**
 * Recently verified cache tokens. A busy CI fleet sends the same few tokens thousands of times
 * a second: verifying each once per interval instead of per request halves the cost of a hit.
 * Shared by CacheAuthGuard and the artifact fast path.
 */
@Injectable()
export class VerifiedTokens {
  private readonly verified = new TtlCache<string, Verified>(VERIFIED_TTL_MS, MAX_TOKENS);

  /** The principal of `raw` when it was verified recently and has not expired; never waits. */
  peek(raw: string): CachePrincipal | undefined {
    const verified = this.verified.peek(raw);
    return verified && verified.expiresAtMs > Date.now() ? verified.principal : undefined;
  }

  /** The principal of `raw`: verified recently (and still unexpired), or now by `verify`. */
  async get(raw: string, verify: () => Promise<CachePrincipal>): Promise<CachePrincipal> {
    const load = async (): Promise<Verified> => {
      const principal = await verify();
      const exp = (decode(raw, { json: true }) ?? {}).exp;
      return { principal, expiresAtMs: typeof exp === 'number' ? exp * 1000 : Infinity };
    };
    let verified = await this.verified.get(raw, load);
    if (verified.expiresAtMs <= Date.now()) verified = await this.verified.get(raw, load, 0);
    return verified.principal;
  }
}
