import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/**
 * The admin UI exists only where the admin API does (ADMIN_TOKEN set): otherwise its routes
 * answer 404 like any unknown route. The page needs no token to load; its API calls do.
 */
@Injectable()
export class AdminUiEnabledGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.config.adminToken) return true;
    const request = context.switchToHttp().getRequest<Request>();
    throw AppException.notFound(`no route for ${request.method} ${request.path}`);
  }
}
