/** The quota modes QUOTA_MODE accepts. */
export const QUOTA_MODES = ['evict', 'reject'] as const;
/** evict: the sweeper drops least-recently-used artifacts; reject: uploads over quota get 403. */
export type QuotaMode = (typeof QUOTA_MODES)[number];

/** The largest retention a server default or a team may set, in days (100 years). */
export const MAX_RETENTION_DAYS = 36_500;

/** The server-wide policy (RETENTION_DAYS, OVERLAY_RETENTION_DAYS, TEAM_QUOTA_BYTES, QUOTA_MODE). */
export interface RetentionDefaults {
  retentionDays: number;
  /** Untrusted overlay entries (trust tiers), capped by the team's retention. */
  overlayRetentionDays: number;
  /** null: no quota. */
  quotaBytes: number | null;
  quotaMode: QuotaMode;
}
