import { Check, Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export enum TeamStatus {
  Enabled = 'enabled',
  /** Reads and uploads answer 403 remote_caching_paused; the status route reports `paused`. */
  Paused = 'paused',
}

/**
 * What a trusted upload of a hash the team already has in its trusted namespace does: replace
 * it (the default; a later `turbo --force` run repairs a broken entry), or, `immutable`, leave it
 * (first trusted write wins; the upload is answered 202 and discarded, and counted).
 */
export enum TrustedEntries {
  Replaceable = 'replaceable',
  Immutable = 'immutable',
}

/**
 * A tenant of the cache. `keyVersion` feeds the derivation of the team's token signing key, so
 * incrementing it voids every token of the team and no signing secret is stored here.
 */
@Entity({ name: 'teams' })
@Check('CHK_teams_status', `"status" IN ('enabled', 'paused')`)
@Check('CHK_teams_slug', `"slug" ~ '^[a-z0-9-]{1,48}$'`)
@Check('CHK_teams_retention_days', `"retention_days" BETWEEN 1 AND 36500`)
@Check('CHK_teams_quota_bytes', `"quota_bytes" >= 0`)
@Check('CHK_teams_overlay_retention_days', `"overlay_retention_days" BETWEEN 1 AND 36500`)
@Check('CHK_teams_trusted_entries', `"trusted_entries" IN ('replaceable', 'immutable')`)
export class Team {
  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'PK_teams' })
  id: string;

  @Index('IDX_teams_slug', { unique: true })
  @Column({ type: 'varchar', length: 48 })
  slug: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 16, default: TeamStatus.Enabled })
  status: TeamStatus;

  @Column({ name: 'key_version', type: 'integer', default: 1 })
  keyVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /**
   * Retention and quota overrides (null: the server default; a quota of 0: no quota). Not
   * selected by default: the policy routes show them resolved against the defaults.
   */
  @Column({ name: 'retention_days', type: 'integer', nullable: true, select: false })
  retentionDays: number | null;

  @Column({
    name: 'quota_bytes',
    type: 'bigint',
    nullable: true,
    select: false,
    transformer: {
      to: (v: number | null) => v,
      from: (v: string | null) => (v === null ? null : Number(v)),
    },
  })
  quotaBytes: number | null;

  /** Overlay (untrusted) entries' retention override in days; null: OVERLAY_RETENTION_DAYS. */
  @Column({ name: 'overlay_retention_days', type: 'integer', nullable: true, select: false })
  overlayRetentionDays: number | null;

  /** Whether a trusted upload of a hash already stored replaces it (default) or is discarded. */
  /** Not selected by default (team views keep their shape): tier-settings routes show it. */
  @Column({
    name: 'trusted_entries',
    type: 'varchar',
    length: 16,
    default: TrustedEntries.Replaceable,
    select: false,
  })
  trustedEntries: TrustedEntries;
}
