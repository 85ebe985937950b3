import { IsIn, IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';
import { ARTIFACT_HASH } from '../artifacts/artifact-hash.pipe';
import { CacheEventKind, CacheSource } from './usage-event.entity';

export const MAX_EVENTS_PER_BATCH = 1_000;

export class UsageEventDto {
  @IsUUID('all', { message: 'sessionId must be a UUID' })
  sessionId: string;

  @IsIn(Object.values(CacheSource), { message: 'source must be LOCAL or REMOTE' })
  source: CacheSource;

  @IsIn(Object.values(CacheEventKind), { message: 'event must be HIT or MISS' })
  event: CacheEventKind;

  @Matches(ARTIFACT_HASH, { message: 'hash must be 1 to 128 hexadecimal characters' })
  hash: string;

  @IsOptional()
  @IsInt({ message: 'duration must be a whole number of milliseconds' })
  @Min(0, { message: 'duration must be >= 0' })
  @Max(2_147_483_647, { message: 'duration is too large' })
  duration?: number;
}
