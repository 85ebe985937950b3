import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp, ThrottlerStorage } from '@nestjs/throttler';
import type { Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RATE_LIMIT_STORAGE, RATE_LIMIT_WINDOW_MS } from './rate-limit-storage';
import { rateLimited } from './too-many-requests';

/** Beyond this many blocked clients, expired blocks are swept before adding another. */
const MAX_TRACKED_BLOCKS = 10_000;

/**
 * Counts failed authentications (401s) per client IP; after RATE_LIMIT_AUTH_FAILURES of them
 * within a minute the client gets 429 for a minute, before its token is even looked at. Only
 * failures count, so a CI fleet's burst of valid requests is never throttled.
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly limit: number;
  /** Client -> epoch ms until which it is refused. */
  private readonly blockedUntil = new Map<string, number>();
  /** The latest of all blocks: until then, some client may be blocked. */
  private anyBlockedUntil = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(RATE_LIMIT_STORAGE) private readonly storage: ThrottlerStorage,
  ) {
    this.limit = config.rateLimit.authFailuresPerMinute;
  }

  /** Throws 429 (with Retry-After) while `client` (clientAddress()) is blocked. */
  assertNotBlocked(client: string): void {
    if (this.limit === 0) return;
    const until = this.blockedUntil.get(client);
    if (until === undefined) return;
    const remainingMs = until - Date.now();
    if (remainingMs <= 0) {
      this.blockedUntil.delete(client);
      return;
    }
    throw rateLimited(
      remainingMs / 1000,
      'too many failed authentications from this address; retry later',
    );
  }

  /** Whether any client is blocked now: when none is, no request needs its client checked. */
  blocksAnyone(): boolean {
    return this.anyBlockedUntil > Date.now();
  }

  /** Counts one failed authentication of `client` (clientAddress()). */
  async recordFailure(client: string): Promise<void> {
    if (this.limit === 0) return;
    const { totalHits, isBlocked } = await this.storage.increment(
      `auth-failures:${client}`,
      RATE_LIMIT_WINDOW_MS,
      this.limit,
      RATE_LIMIT_WINDOW_MS,
      'auth-failures',
    );
    if (totalHits >= this.limit || isBlocked) this.block(client);
  }

  private block(client: string): void {
    const now = Date.now();
    if (this.blockedUntil.size >= MAX_TRACKED_BLOCKS) {
      for (const [key, until] of this.blockedUntil) if (until <= now) this.blockedUntil.delete(key);
    }
    this.blockedUntil.set(client, now + RATE_LIMIT_WINDOW_MS);
    this.anyBlockedUntil = now + RATE_LIMIT_WINDOW_MS;
  }
}

/** The client address (per TRUST_PROXY); IPv6 clients are grouped by /64 as one host. */
export function clientAddress(request: Request): string {
  const ip = request.ip ?? request.socket.remoteAddress ?? 'unknown';
  return normalizeIp(ip);
}
