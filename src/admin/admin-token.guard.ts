import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { arrivedOnAdminListener } from '../http/listener-scope';
import { AdminThrottlerGuard } from '../rate-limit/admin-throttler.guard';
import { AuthFailureLimiter, clientAddress } from '../rate-limit/auth-failure.limiter';

/**
 * The admin API exists only when ADMIN_TOKEN is set (else its routes answer 404 like any unknown
 * route), with ADMIN_PORT only on that listener, and answers only
 * `Authorization: Bearer <ADMIN_TOKEN>` (else 401, counted per client IP by AuthFailureLimiter). Accepted calls count towards RATE_LIMIT_ADMIN (AdminThrottlerGuard).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;
  /** ADMIN_PORT is set: admin requests count only when they came in on that listener. */
  private readonly ownListener: boolean;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly failures: AuthFailureLimiter,
    private readonly adminLimit: AdminThrottlerGuard,
  ) {
    if (config.adminToken) this.expected = digest(config.adminToken);
    this.ownListener = config.admin !== undefined;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<Request>();
    // With ADMIN_PORT the public listener already refuses admin paths; this is the second lock.
    if (!this.expected || (this.ownListener && !arrivedOnAdminListener(request))) {
      throw AppException.notFound(`no route for ${request.method} ${request.path}`);
    }
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
