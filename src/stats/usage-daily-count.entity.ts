import { Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import { Team } from '../teams/team.entity';

const count = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * The rolled-up usage events of one team, UTC day and client CI (UsageRollupJob): what the
 * stats' totals, daily series and client split add up. Only events up to
 * usage_rollup_state.rolled_up_to are in it.
 */
@Entity({ name: 'usage_daily_counts' })
export class UsageDailyCount {
  @PrimaryColumn({
    name: 'team_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_usage_daily_counts',
  })
  @ForeignKey(() => Team, { name: 'FK_usage_daily_counts_team_id', onDelete: 'CASCADE' })
  teamId: string;

  /** The UTC day of the events' created_at (`YYYY-MM-DD`). */
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'PK_usage_daily_counts' })
  day: string;

  /** The events' x-artifact-client-ci; '' for interactive clients (NULL in usage_events). */
  @PrimaryColumn({
    name: 'client_ci',
    type: 'varchar',
    length: PROTOCOL_LIMITS.clientCiLength,
    primaryKeyConstraintName: 'PK_usage_daily_counts',
  })
  clientCi: string;

  @Column({ name: 'remote_hits', type: 'bigint', default: 0, transformer: count })
  remoteHits: number;

  @Column({ name: 'remote_misses', type: 'bigint', default: 0, transformer: count })
  remoteMisses: number;

  @Column({ name: 'local_hits', type: 'bigint', default: 0, transformer: count })
  localHits: number;

  @Column({ name: 'local_misses', type: 'bigint', default: 0, transformer: count })
  localMisses: number;

  /** Sum of duration_ms of the REMOTE HIT events. */
  @Column({ name: 'time_saved_ms', type: 'bigint', default: 0, transformer: count })
  timeSavedMs: number;

  /** Rows of usage_session_days of this team, day and client CI (sessions seen that day). */
  @Column({ type: 'bigint', default: 0, transformer: count })
  sessions: number;
}
