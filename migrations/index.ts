/** Every migration, oldest first. A file here is never edited after it lands. */
import type { MixedList } from 'typeorm';
import { TeamsAndTokens1795669500000 } from './1795669500000-TeamsAndTokens';
import { ArtifactsAndEvents1795670097497 } from './1795670097497-ArtifactsAndEvents';
import { RetentionAndQuotas1795672744589 } from './1795672744589-RetentionAndQuotas';
import { ArtifactVersions1795700000000 } from './1795700000000-ArtifactVersions';
import { CacheRequestCounts1795984147895 } from './1795984147895-CacheRequestCounts';
import { TrustTiers1795992826258 } from './1795992826258-TrustTiers';
import { OidcTrustPolicies1795994706098 } from './1795994706098-OidcTrustPolicies';
import { UsageRollups1795996054557 } from './1795996054557-UsageRollups';

export const MIGRATIONS: MixedList<new () => unknown> = [
  TeamsAndTokens1795669500000,
  ArtifactsAndEvents1795670097497,
  RetentionAndQuotas1795672744589,
  ArtifactVersions1795700000000,
  CacheRequestCounts1795984147895,
  TrustTiers1795992826258,
  OidcTrustPolicies1795994706098,
  UsageRollups1795996054557,
];
