import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import type { UsageEventBatch } from './usage-event-batch.pipe';
import { UsageEvent } from './usage-event.entity';

@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);

  constructor(
    @InjectRepository(UsageEvent) private readonly events: Repository<UsageEvent>,
    private readonly metrics: MetricsService,
  ) {}

  /** Stores a batch's valid events in one multi-row INSERT; counts and logs the skipped ones. */
  async record(teamId: string, batch: UsageEventBatch, clientCi: string | null): Promise<void> {
    this.countSkipped(teamId, batch);
    if (batch.events.length === 0) return;
    await this.events.insert(
      batch.events.map((e) => ({
        teamId,
        sessionId: e.sessionId,
        source: e.source,
        event: e.event,
        hash: e.hash.toLowerCase(),
        durationMs: e.duration ?? 0,
        clientCi,
      })),
    );
  }

  // Debug only: a client that keeps sending an odd event would otherwise flood the log; the
  // counter is what an operator watches.
  private countSkipped(teamId: string, { events, skipped }: UsageEventBatch): void {
    if (skipped.length === 0) return;
    for (const { reason } of skipped) this.metrics.recordSkippedUsageEvent(reason);
    const [first] = skipped;
    this.logger.debug(
      `skipped ${skipped.length} of ${skipped.length + events.length} usage events of team ` +
        `${teamId}; first, at index ${first.index}: ${first.message}`,
    );
  }
}
