import { Global, Module } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { AdminThrottlerGuard } from './admin-throttler.guard';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { RATE_LIMIT_STORAGE } from './rate-limit-storage';

/**
 * Rate limits (per replica, in memory): failed authentications per client IP for every
 * authenticated route, and admin API calls per token. Successful cache traffic is never limited.
 * Global because the cache and admin guards of several feature modules use it.
 */
@Global()
@Module({
  providers: [
    { provide: RATE_LIMIT_STORAGE, useClass: ThrottlerStorageService },
    AuthFailureLimiter,
    AdminThrottlerGuard,
  ],
  exports: [RATE_LIMIT_STORAGE, AuthFailureLimiter, AdminThrottlerGuard],
})
export class RateLimitModule {}
