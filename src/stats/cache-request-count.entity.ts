import { Check, Column, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import type { CacheTool } from '../storage/blob-keys';
import { Team } from '../teams/team.entity';

const count = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * Cache requests the server counted itself, per team, tool and UTC day: for a client that
 * reports no usage events (Nx), the only record of its hits, misses and uploads. Written in
 * batches by a frontend's recorder (CacheRequestCountsRepository.addCounts), read by the stats.
 */
@Entity({ name: 'cache_request_counts' })
@Check('CHK_cache_request_counts_tool', `"tool" IN ('turbo', 'nx')`)
export class CacheRequestCount {
  @PrimaryColumn({
    name: 'team_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_cache_request_counts',
  })
  @ForeignKey(() => Team, { name: 'FK_cache_request_counts_team_id', onDelete: 'CASCADE' })
  teamId: string;

  @PrimaryColumn({
    type: 'varchar',
    length: 16,
    primaryKeyConstraintName: 'PK_cache_request_counts',
  })
  tool: CacheTool;

  /** The UTC day the requests were answered (`YYYY-MM-DD`). */
  @PrimaryColumn({ type: 'date', primaryKeyConstraintName: 'PK_cache_request_counts' })
  day: string;

  /** GETs answered 200. */
  @Column({ type: 'bigint', default: 0, transformer: count })
  hits: number;

  /** GETs answered 404. */
  @Column({ type: 'bigint', default: 0, transformer: count })
  misses: number;

  /** PUTs stored (answered 200). */
  @Column({ type: 'bigint', default: 0, transformer: count })
  uploads: number;

  /** PUTs refused (4xx) once the team was known: read-only token, existing entry, too large, bad headers. */
  @Column({ name: 'refused_uploads', type: 'bigint', default: 0, transformer: count })
  refusedUploads: number;
}
