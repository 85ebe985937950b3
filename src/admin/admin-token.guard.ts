import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AdminThrottlerGuard } from '../rate-limit/admin-throttler.guard';
import { AuthFailureLimiter, clientAddress } from '../rate-limit/auth-failure.limiter';

/**
 * The admin API exists only when ADMIN_TOKEN is set (else its routes answer 404 like any unknown
 * route) and answers only `Authorization: Bearer <ADMIN_TOKEN>` (else 401, counted per client
 * IP by AuthFailureLimiter). Accepted calls count towards RATE_LIMIT_ADMIN (AdminThrottlerGuard).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly failures: AuthFailureLimiter,
    private readonly adminLimit: AdminThrottlerGuard,
  ) {
    if (config.adminToken) this.expected = digest(config.adminToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    if (!this.expected)
      throw AppException.notFound(`no route for ${request.method} ${request.path}`);
    this.failures.assertNotBlocked(clientAddress(request));
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    // Digests first: equal lengths for timingSafeEqual, and no timing hint about the length.
    if (!match || !timingSafeEqual(digest(match[1]), this.expected)) {
      await this.failures.recordFailure(clientAddress(request));
      throw AppException.unauthorized('missing or invalid admin token');
    }
    return this.adminLimit.canActivate(context);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
