import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { RATE_LIMIT_STORAGE, RATE_LIMIT_WINDOW_MS } from './rate-limit-storage';
import { tooManyRequests } from './too-many-requests';

/**
 * RATE_LIMIT_ADMIN calls per minute per admin token, across all admin routes; the next one gets
 * 429 with Retry-After until the minute is over. AdminTokenGuard runs it once the token is
 * valid, so every admin route is limited and only accepted calls count (failures count per
 * client IP in AuthFailureLimiter).
 */
@Injectable()
export class AdminThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(RATE_LIMIT_STORAGE) storage: ThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
  ) {
    super(
      {
        throttlers: [
          { name: 'admin', limit: config.rateLimit.adminPerMinute, ttl: RATE_LIMIT_WINDOW_MS },
        ],
        // Retry-After is set by throwThrottlingException, under its standard name.
        setHeaders: false,
      },
      storage,
      reflector,
    );
  }

  protected async shouldSkip(): Promise<boolean> {
    return this.throttlers.every((throttler) => throttler.limit === 0);
  }

  /** The token's digest: one bucket per token, never the token itself in memory keys. */
  protected async getTracker(request: Request): Promise<string> {
    const authorization = request.headers.authorization ?? '';
    return createHash('sha256').update(authorization, 'utf8').digest('hex');
  }

  /** One bucket per token across every admin route (the default is one per route). */
  protected generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${name}:${tracker}`;
  }

  protected async throwThrottlingException(
    context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw tooManyRequests(
      context.switchToHttp().getResponse<Response>(),
      detail.timeToBlockExpire,
      `at most ${detail.limit} admin API calls per minute`,
    );
  }
}
