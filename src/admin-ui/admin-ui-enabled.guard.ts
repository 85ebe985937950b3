import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { arrivedOnAdminListener } from '../http/listener-scope';

/**
 * The admin UI exists only where the admin API does (ADMIN_TOKEN set, and with ADMIN_PORT only
 * on that listener): otherwise its routes
 * answer 404 like any unknown route. The page needs no token to load; its API calls do.
 */
@Injectable()
export class AdminUiEnabledGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const ownListener = this.config.admin !== undefined;
    if (this.config.adminToken && (!ownListener || arrivedOnAdminListener(request))) return true;
    throw AppException.notFound(`no route for ${request.method} ${request.path}`);
  }
}
