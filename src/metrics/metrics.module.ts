import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';
import { StorageErrorsInterceptor } from './storage-errors.interceptor';

/**
 * Prometheus metrics at /metrics (optionally behind METRICS_TOKEN). Global because feature
 * modules (artifacts) record into MetricsService; HTTP requests are counted by RequestEnvelope.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    MetricsService,
    MetricsTokenGuard,
    { provide: APP_INTERCEPTOR, useClass: StorageErrorsInterceptor },
  ],
  exports: [MetricsService],
})
export class MetricsModule {}
