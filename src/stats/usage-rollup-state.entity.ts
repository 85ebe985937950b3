import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

const bigintNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * Where the usage rollups stand (one row, id 1): written by UsageRollupJob and the retention
 * sweep, read by every stats request in the same snapshot as the rollups.
 */
@Entity({ name: 'usage_rollup_state' })
@Check('CHK_usage_rollup_state_single', `"id" = 1`)
export class UsageRollupState {
  @PrimaryColumn({ type: 'smallint', primaryKeyConstraintName: 'PK_usage_rollup_state' })
  id: number;

  /** Every usage event with an id up to this one (inclusive) is in the rollups. */
  @Column({ name: 'rolled_up_to', type: 'bigint', default: 0, transformer: bigintNumber })
  rolledUpTo: number;

  /**
   * Raw events created before this may have been pruned (only rolled-up ones ever are); null:
   * none was. Raised before a prune deletes anything.
   */
  @Column({ name: 'events_kept_from', type: 'timestamptz', nullable: true })
  eventsKeptFrom: Date | null;

  /** Days up to this one (`YYYY-MM-DD`) keep only their top hashes in usage_daily_artifacts. */
  @Column({ name: 'top_artifacts_trimmed_through', type: 'date', nullable: true })
  topArtifactsTrimmedThrough: string | null;
}
