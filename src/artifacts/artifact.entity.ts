import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { Team } from '../teams/team.entity';
import { PROTOCOL_LIMITS } from './protocol-limits';

/** What the cache knows about one stored artifact of one team; its bytes live in blob storage. */
@Entity({ name: 'artifacts' })
// (team_id, last_accessed_at) INCLUDE (size), made by its migration (TypeORM cannot express
// INCLUDE): expiry and LRU order per team, and a team's stored bytes by an index-only scan.
@Index('IDX_artifacts_team_last_access', { synchronize: false })
// Partial indexes made by the TrustTiers migration: rows by writer (audit, purge --writer) and
// overlay rows by scope (overlay retention, purge --scope).
@Index('IDX_artifacts_team_writer', { synchronize: false })
@Index('IDX_artifacts_team_overlay', { synchronize: false })
// A team's uploads of one day (the stats' partial days) without reading all its rows.
@Index('IDX_artifacts_team_created', ['teamId', 'createdAt'])
export class Artifact {
  @PrimaryColumn({
    name: 'team_id',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'PK_artifacts',
  })
  @ForeignKey(() => Team, { name: 'FK_artifacts_team_id', onDelete: 'CASCADE' })
  teamId: string;

  @PrimaryColumn({
    type: 'varchar',
    length: PROTOCOL_LIMITS.hashLength,
    primaryKeyConstraintName: 'PK_artifacts',
  })
  hash: string;

  /** '' (TRUSTED_NAMESPACE): the team's trusted namespace; else the overlay of that scope. */
  @PrimaryColumn({
    name: 'overlay_scope',
    type: 'varchar',
    length: 64,
    default: '',
    primaryKeyConstraintName: 'PK_artifacts',
  })
  overlayScope: string;

  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size: number;

  @Column({ name: 'duration_ms', type: 'integer', default: 0 })
  durationMs: number;

  @Column({ type: 'varchar', length: PROTOCOL_LIMITS.tagLength, nullable: true })
  tag: string | null;

  @Column({ type: 'varchar', length: PROTOCOL_LIMITS.shaLength, nullable: true })
  sha: string | null;

  @Column({
    name: 'dirty_hash',
    type: 'varchar',
    length: PROTOCOL_LIMITS.dirtyHashLength,
    nullable: true,
  })
  dirtyHash: string | null;

  @Column({
    name: 'client_ci',
    type: 'varchar',
    length: PROTOCOL_LIMITS.clientCiLength,
    nullable: true,
  })
  clientCi: string | null;

  @Column({ name: 'client_interactive', type: 'boolean', nullable: true })
  clientInteractive: boolean | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_accessed_at', type: 'timestamptz', default: () => 'now()' })
  lastAccessedAt: Date;

  @Column({ name: 'hit_count', type: 'integer', default: 0 })
  hitCount: number;

  /** The upload whose body this row serves (blob-keys.ts); null: a row from before versions. */
  @Column({ name: 'blob_version', type: 'varchar', length: 24, nullable: true })
  blobVersion: string | null;

  /** The token that wrote this version (provenance); null for rows from before trust tiers. */
  @Column({ name: 'writer_token_id', type: 'uuid', nullable: true })
  writerTokenId: string | null;

  /** That token's name when it wrote (kept if the token is renamed or its team's tokens go). */
  @Column({ name: 'writer_token_name', type: 'varchar', length: 100, nullable: true })
  writerTokenName: string | null;

  /** sha256 of the body (lowercase hex), computed as it streamed in; null before versions. */
  @Column({ name: 'content_sha256', type: 'char', length: 64, nullable: true })
  contentSha256: string | null;
}
