import { PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppException } from '../common/app-exception';
import { MAX_EVENTS_PER_BATCH, UsageEventDto } from './usage-event.dto';

/** Why an event was skipped: it is no JSON object, or the first of its fields that is invalid. */
export type SkipReason = 'not_an_object' | keyof UsageEventDto;

export interface SkippedEvent {
  /** Its position in the posted array. */
  index: number;
  reason: SkipReason;
  message: string;
}

export interface UsageEventBatch {
  /** The valid events, in order, without unknown fields. */
  events: UsageEventDto[];
  skipped: SkippedEvent[];
}

/**
 * Reads the body of POST /v8/artifacts/events, `[{sessionId, source, event, hash, duration}]`:
 * - not an array (an object, string, number, null, no body): 400, nothing stored;
 * - more than MAX_EVENTS_PER_BATCH items: 400, before any per-item work;
 * - an item that is not a valid event (UsageEventDto): skipped and listed, the rest is stored;
 * - unknown fields of an event: dropped.
 * Per item, because turbo posts events fire-and-forget and never retries: refusing a batch for
 * one event a newer client shapes differently would lose all of them, silently (protocol.md:
 * "future clients may add fields: ignore unknown ones").
 */
export class UsageEventBatchPipe implements PipeTransform<unknown, UsageEventBatch> {
  transform(body: unknown): UsageEventBatch {
    if (body === undefined) {
      throw AppException.badRequest(
        'no JSON body: send the events as a JSON array with Content-Type: application/json',
      );
    }
    if (!Array.isArray(body)) {
      throw AppException.badRequest('the body must be a JSON array of events');
    }
    if (body.length > MAX_EVENTS_PER_BATCH) {
      throw AppException.badRequest(`at most ${MAX_EVENTS_PER_BATCH} events per request`);
    }
    const batch: UsageEventBatch = { events: [], skipped: [] };
    body.forEach((item: unknown, index) => {
      const checked = checkEvent(item);
      if (checked instanceof UsageEventDto) batch.events.push(checked);
      else batch.skipped.push({ index, ...checked });
    });
    return batch;
  }
}

function checkEvent(item: unknown): UsageEventDto | Omit<SkippedEvent, 'index'> {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return { reason: 'not_an_object', message: 'an event must be a JSON object' };
  }
  const event = plainToInstance(UsageEventDto, item);
  // whitelist strips the fields UsageEventDto does not declare (and reports none of them).
  const [first] = validateSync(event, { whitelist: true });
  if (first === undefined) return event;
  // class-validator reports fields in declaration order, so the first one is the reason.
  return {
    reason: first.property as keyof UsageEventDto,
    message: Object.values(first.constraints ?? {}).join('; ') || `${first.property} is invalid`,
  };
}
