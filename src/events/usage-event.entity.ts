import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import {
  Column,
  CreateDateColumn,
  Entity,
  ForeignKey,
  Index,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Team } from '../teams/team.entity';

export enum CacheSource {
  Local = 'LOCAL',
  Remote = 'REMOTE',
}

export enum CacheEventKind {
  Hit = 'HIT',
  Miss = 'MISS',
}

/** One cache HIT or MISS reported by a turbo client (POST /v8/artifacts/events). */
@Entity({ name: 'usage_events' })
@Index('idx_usage_events_team_time', ['teamId', 'createdAt'])
export class UsageEvent {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_usage_events' })
  id: string;

  @Column({ name: 'team_id', type: 'varchar', length: 64 })
  @ForeignKey(() => Team, { name: 'FK_usage_events_team_id', onDelete: 'CASCADE' })
  teamId: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @Column({ type: 'varchar', length: 6 })
  source: CacheSource;

  @Column({ type: 'varchar', length: 4 })
  event: CacheEventKind;

  @Column({ type: 'varchar', length: PROTOCOL_LIMITS.hashLength })
  hash: string;

  @Column({ name: 'duration_ms', type: 'integer', default: 0 })
  durationMs: number;

  @Column({
    name: 'client_ci',
    type: 'varchar',
    length: PROTOCOL_LIMITS.clientCiLength,
    nullable: true,
  })
  clientCi: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
