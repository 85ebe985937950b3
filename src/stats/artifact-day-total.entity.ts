import { Check, Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { PROTOCOL_LIMITS } from '../artifacts/protocol-limits';
import type { CacheTool } from '../storage/blob-keys';
import { Team } from '../teams/team.entity';

const count = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * The artifacts stored now, counted by the UTC day of their (last) upload, client CI ('' =
 * none) and tool. Kept by triggers on `artifacts` (every insert, delete and counted update
 * appends to artifact_day_deltas) and UsageRollupJob (folds the deltas in): the totals plus the
 * pending deltas always equal a count of the artifacts rows.
 */
@Entity({ name: 'artifact_day_totals' })
@Check('CHK_artifact_day_totals_tool', `"tool" IN ('turbo', 'nx')`)
export class ArtifactDayTotal {
  @PrimaryColumn({
    name: 'team_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_artifact_day_totals',
  })
  @ForeignKey(() => Team, { name: 'FK_artifact_day_totals_team_id', onDelete: 'CASCADE' })
  teamId: string;

  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'PK_artifact_day_totals' })
  day: string;

  @PrimaryColumn({
    name: 'client_ci',
    type: 'varchar',
    length: PROTOCOL_LIMITS.clientCiLength,
    primaryKeyConstraintName: 'PK_artifact_day_totals',
  })
  clientCi: string;

  @PrimaryColumn({
    type: 'varchar',
    length: 16,
    primaryKeyConstraintName: 'PK_artifact_day_totals',
  })
  tool: CacheTool;

  @Column({ type: 'bigint', default: 0, transformer: count })
  artifacts: number;

  @Column({ type: 'bigint', default: 0, transformer: count })
  bytes: number;
}
