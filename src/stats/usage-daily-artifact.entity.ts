import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import { Team } from '../teams/team.entity';

const count = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * Remote hits of one hash on one UTC day (UsageRollupJob), for the top artifacts. Today's and
 * yesterday's rows are complete; an older day keeps its TOP_HASHES_PER_DAY hashes only.
 */
@Entity({ name: 'usage_daily_artifacts' })
export class UsageDailyArtifact {
  @PrimaryColumn({
    name: 'team_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_usage_daily_artifacts',
  })
  @ForeignKey(() => Team, { name: 'FK_usage_daily_artifacts_team_id', onDelete: 'CASCADE' })
  teamId: string;

  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'PK_usage_daily_artifacts' })
  day: string;

  @PrimaryColumn({
    type: 'varchar',
    length: PROTOCOL_LIMITS.hashLength,
    primaryKeyConstraintName: 'PK_usage_daily_artifacts',
  })
  hash: string;

  /** REMOTE HIT events. */
  @Column({ type: 'bigint', default: 0, transformer: count })
  hits: number;

  /** Sum of their duration_ms. */
  @Column({ name: 'time_saved_ms', type: 'bigint', default: 0, transformer: count })
  timeSavedMs: number;
}
