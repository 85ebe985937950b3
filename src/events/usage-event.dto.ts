import { IsIn, IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import { ARTIFACT_HASH } from '../artifacts/artifact-hash.pipe';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import { CacheEventKind, CacheSource } from './usage-event.entity';

/** Checked before any per-event work; turbo itself posts about 10 events at a time. */
export const MAX_EVENTS_PER_BATCH = PROTOCOL_LIMITS.eventsPerBatch;

/**
 * One event of POST /v8/artifacts/events (protocol.md, "Events"):
 * `{"sessionId": uuid, "source": "LOCAL"|"REMOTE", "event": "HIT"|"MISS", "hash": hex,
 * "duration": ms}`. Validated one event at a time (UsageEventBatchPipe): fields other than these
 * are dropped, never refused, because later turbo releases may add some.
 */
export class UsageEventDto {
  @IsUUID('all', { message: 'sessionId must be a UUID' })
  sessionId: string;

  @IsIn(Object.values(CacheSource), { message: 'source must be LOCAL or REMOTE' })
  source: CacheSource;

  @IsIn(Object.values(CacheEventKind), { message: 'event must be HIT or MISS' })
  event: CacheEventKind;

  @Matches(ARTIFACT_HASH, {
    message: `hash must be 1 to ${PROTOCOL_LIMITS.hashLength} hexadecimal characters`,
  })
  hash: string;

  // turbo always sends it (0 on a miss); absent or null is stored as 0.
  @IsOptional()
  @IsInt({ message: 'duration must be a whole number of milliseconds' })
  @Min(0, { message: 'duration must be >= 0' })
  @Max(2_147_483_647, { message: 'duration is too large' })
  duration?: number;
}

/** The fields an event is checked on, in order: the first failing one names a skip's reason. */
export const USAGE_EVENT_FIELDS = ['sessionId', 'source', 'event', 'hash', 'duration'] as const;
export type UsageEventField = (typeof USAGE_EVENT_FIELDS)[number];
