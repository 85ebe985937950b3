/** Every TypeORM entity of the app; a new entity is added here and gets a migration. */
import type { EntitySchema, MixedList } from 'typeorm';
import { Artifact } from '../artifacts/artifact.entity';
import { BlobGarbage } from '../artifacts/blob-garbage.entity';
import { UsageEvent } from '../events/usage-event.entity';
import { OidcPolicy, OidcUsedJti } from '../oidc/oidc-policy.entity';
import { ArtifactDayDelta } from '../stats/artifact-day-delta.entity';
import { ArtifactDayTotal } from '../stats/artifact-day-total.entity';
import { CacheRequestCount } from '../stats/cache-request-count.entity';
import { UsageDailyArtifact } from '../stats/usage-daily-artifact.entity';
import { UsageDailyCount } from '../stats/usage-daily-count.entity';
import { UsageRollupState } from '../stats/usage-rollup-state.entity';
import { UsageSessionDay } from '../stats/usage-session-day.entity';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';

export const ENTITIES: MixedList<(new () => unknown) | EntitySchema> = [
  Team,
  Token,
  Artifact,
  BlobGarbage,
  UsageEvent,
  CacheRequestCount,
  UsageRollupState,
  UsageDailyCount,
  UsageSessionDay,
  UsageDailyArtifact,
  ArtifactDayTotal,
  ArtifactDayDelta,
  OidcPolicy,
  OidcUsedJti,
];
