import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import type { CacheTool } from '../storage/blob-keys';

const count = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * A change to artifact_day_totals not folded in yet, appended by the triggers on `artifacts`
 * (negative counts for rows deleted or moved away). Append-only until UsageRollupJob folds it,
 * so that uploads never wait on a shared counter row. No foreign key: a team's deletion writes
 * deltas just before its row goes (the job drops them).
 */
@Entity({ name: 'artifact_day_deltas' })
export class ArtifactDayDelta {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_artifact_day_deltas' })
  id: string;

  @Column({ name: 'team_id', type: 'varchar', length: 64 })
  teamId: string;

  @Column({ type: 'date' })
  day: string;

  @Column({ name: 'client_ci', type: 'varchar', length: PROTOCOL_LIMITS.clientCiLength })
  clientCi: string;

  @Column({ type: 'varchar', length: 16 })
  tool: CacheTool;

  @Column({ type: 'bigint', transformer: count })
  artifacts: number;

  @Column({ type: 'bigint', transformer: count })
  bytes: number;
}
