import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { UsageEventDto } from './usage-event.dto';
import { UsageEvent } from './usage-event.entity';

@Injectable()
export class EventsService {
  constructor(@InjectRepository(UsageEvent) private readonly events: Repository<UsageEvent>) {}

  /** Stores a batch in one multi-row INSERT. */
  async record(teamId: string, batch: UsageEventDto[], clientCi: string | null): Promise<void> {
    if (batch.length === 0) return;
    await this.events.insert(
      batch.map((e) => ({
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
}
