import { InvalidByteSizeError, parseByteSize } from '../common/byte-size';
import {
  MAX_RETENTION_DAYS,
  type QuotaMode,
  type RetentionDefaults,
} from '../config/retention-defaults';

/** What a team row stores: null = the server default; a quota of 0 = explicitly no quota. */
export interface TeamPolicyOverrides {
  retentionDays: number | null;
  quotaBytes: number | null;
}

/** The stored value meaning "this team has no quota, whatever the default" (`--quota none`). */
export const NO_QUOTA = 0;

export type PolicySource = 'team' | 'default';

export interface EffectivePolicy {
  retentionDays: number;
  retentionSource: PolicySource;
  /** null: unlimited. */
  quotaBytes: number | null;
  quotaSource: PolicySource;
  quotaMode: QuotaMode;
}

export function effectivePolicy(
  team: TeamPolicyOverrides,
  defaults: RetentionDefaults,
): EffectivePolicy {
  const quotaSource: PolicySource = team.quotaBytes === null ? 'default' : 'team';
  const quota = team.quotaBytes ?? defaults.quotaBytes;
  return {
    retentionDays: team.retentionDays ?? defaults.retentionDays,
    retentionSource: team.retentionDays === null ? 'default' : 'team',
    quotaBytes: quota === NO_QUOTA ? null : quota,
    quotaSource,
    quotaMode: defaults.quotaMode,
  };
}

/** The policy columns of a `teams` row as raw SQL returns them (bigint as text). */
export interface TeamPolicyColumns {
  retention_days: number | null;
  quota_bytes: string | number | null;
}

/** The one mapping from a team row's policy columns to the policy that applies to it. */
export function teamPolicyOf(row: TeamPolicyColumns, defaults: RetentionDefaults): EffectivePolicy {
  return effectivePolicy(
    {
      retentionDays: row.retention_days,
      quotaBytes: row.quota_bytes === null ? null : Number(row.quota_bytes),
    },
    defaults,
  );
}

export class InvalidPolicyError extends Error {}

/** `N` (whole days, 1 to 36500) or `default`; returns the value to store (null = default). */
export function parseRetentionSetting(value: unknown): number | null {
  if (value === 'default') return null;
  const days = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : value;
  if (
    typeof days !== 'number' ||
    !Number.isInteger(days) ||
    days < 1 ||
    days > MAX_RETENTION_DAYS
  ) {
    throw new InvalidPolicyError(
      `retention days must be a whole number from 1 to ${MAX_RETENTION_DAYS} or "default" (got ${JSON.stringify(value)})`,
    );
  }
  return days;
}

/**
 * A size (`10GiB`, a byte count), `none` (no quota for this team) or `default`; returns the
 * value to store: bytes, NO_QUOTA, or null for the default.
 */
export function parseQuotaSetting(value: unknown): number | null {
  if (value === 'default') return null;
  if (value === 'none') return NO_QUOTA;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string') {
    try {
      return parseByteSize(value);
    } catch (error) {
      if (!(error instanceof InvalidByteSizeError)) throw error;
      throw new InvalidPolicyError(`quota: ${error.message}, "none" or "default"`);
    }
  }
  throw new InvalidPolicyError(
    `quota must be a size such as 10GiB, a byte count, "none" or "default" (got ${JSON.stringify(value)})`,
  );
}

/** A team row's overlay retention column (null: OVERLAY_RETENTION_DAYS). */
export interface OverlayRetentionColumns extends TeamPolicyColumns {
  overlay_retention_days: number | null;
}

/** How long untrusted overlay entries stay unused before they expire, and why. */
export interface OverlayRetention {
  /** Days: the overlay setting, capped by the team's retention (an overlay never outlives it). */
  days: number;
  /** The overlay setting before the cap. */
  setting: number;
  source: PolicySource;
}

/** The one mapping from a team row to its overlay retention (issue 16: default 7 days). */
export function overlayRetentionOf(
  row: OverlayRetentionColumns,
  defaults: RetentionDefaults,
): OverlayRetention {
  const setting = row.overlay_retention_days ?? defaults.overlayRetentionDays;
  return {
    days: Math.min(setting, teamPolicyOf(row, defaults).retentionDays),
    setting,
    source: row.overlay_retention_days === null ? 'default' : 'team',
  };
}
