/** Every TypeORM entity of the app; a new entity is added here and gets a migration. */
import type { EntitySchema, MixedList } from 'typeorm';
import { Artifact } from '../artifacts/artifact.entity';
import { BlobGarbage } from '../artifacts/blob-garbage.entity';
import { UsageEvent } from '../events/usage-event.entity';
import { OidcPolicy, OidcUsedJti } from '../oidc/oidc-policy.entity';
import { CacheRequestCount } from '../stats/cache-request-count.entity';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';

export const ENTITIES: MixedList<(new () => unknown) | EntitySchema> = [
  Team,
  Token,
  Artifact,
  BlobGarbage,
  UsageEvent,
  CacheRequestCount,
  OidcPolicy,
  OidcUsedJti,
];
