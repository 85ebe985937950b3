import { Allow, IsOptional, IsString } from 'class-validator';

/** PATCH /admin/teams/:team/tier-settings; values are checked by TierSettingsService (400). */
export class UpdateTierSettingsDto {
  /** Whole days (1 to 36500) or "default" (OVERLAY_RETENTION_DAYS). */
  @IsOptional()
  @Allow()
  overlayRetentionDays?: number | string;

  /** "replaceable" or "immutable". */
  @IsOptional()
  @IsString({ message: 'trustedEntries must be "replaceable" or "immutable"' })
  trustedEntries?: string;
}
