import { Controller, Get } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppException } from '../common/app-exception';
import { ApiHealthRoutes, ApiLiveness, ApiReadiness } from './health.openapi';
import { StorageHealthIndicator } from './storage.health';

@Controller()
@ApiHealthRoutes()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly storage: StorageHealthIndicator,
  ) {}

  /** Liveness: the process runs and its event loop answers. */
  @Get('healthz')
  @ApiLiveness()
  live() {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL and the blob storage both answer. */
  @Get('readyz')
  @ApiReadiness()
  async ready() {
    try {
      return await this.health.check([
        () => this.database.pingCheck('database', { timeout: 2_000 }),
        () => this.storage.pingCheck('storage'),
      ]);
    } catch (error) {
      const details = (error as { response?: { error?: Record<string, { message?: string }> } })
        .response?.error;
      const down = Object.entries(details ?? {}).map(
        ([name, detail]) => `${name}${detail.message ? ` (${detail.message})` : ''}`,
      );
      throw AppException.unavailable(`not ready: ${down.join(', ') || 'a dependency is down'}`);
    }
  }
}
