import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ApiMetricsScrape } from './metrics.openapi';
import { MetricsService } from './metrics.service';
import { MetricsTokenGuard } from './metrics-token.guard';

/** GET /metrics: the Prometheus text format; never rate limited, not counted in itself. */
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiMetricsScrape()
  async scrape(@Res() res: Response): Promise<void> {
    const body = await this.metrics.render();
    res.set({ 'content-type': this.metrics.contentType, 'cache-control': 'no-store' }).send(body);
  }
}
