import { Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import { Team } from '../teams/team.entity';

/**
 * One session (turbo run) of one client CI seen on one UTC day (UsageRollupJob). Kept exactly,
 * so that sessions over a period count each session once even when it spans midnight: a
 * period's sessions are its days' counts minus the rows whose previous day (`prevDay`) is in
 * the period too (UsageStatsRepository).
 */
@Entity({ name: 'usage_session_days' })
@Index('IDX_usage_session_days_team_day', ['teamId', 'day', 'clientCi'])
// Partial (prev_day IS NOT NULL), made by its migration: the rare rows of a session's later days.
@Index('IDX_usage_session_days_repeats', { synchronize: false })
export class UsageSessionDay {
  @PrimaryColumn({
    name: 'team_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_usage_session_days',
  })
  @ForeignKey(() => Team, { name: 'FK_usage_session_days_team_id', onDelete: 'CASCADE' })
  teamId: string;

  /** '' for interactive clients. */
  @PrimaryColumn({
    name: 'client_ci',
    type: 'varchar',
    length: PROTOCOL_LIMITS.clientCiLength,
    primaryKeyConstraintName: 'PK_usage_session_days',
  })
  clientCi: string;

  @PrimaryColumn({
    name: 'session_id',
    type: 'uuid',
    primaryKeyConstraintName: 'PK_usage_session_days',
  })
  sessionId: string;

  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'PK_usage_session_days' })
  day: string;

  /** The session's first and last rolled-up event of the day: periods that start or end within it. */
  @Column({ name: 'first_at', type: 'timestamptz' })
  firstAt: Date;

  @Column({ name: 'last_at', type: 'timestamptz' })
  lastAt: Date;

  /** The latest earlier day with a row of the same session and client CI; null: none. */
  @Column({ name: 'prev_day', type: 'date', nullable: true })
  prevDay: string | null;
}
