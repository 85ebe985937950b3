import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { RetentionDefaults } from '../config/retention-defaults';
import {
  InvalidPolicyError,
  overlayRetentionOf,
  parseRetentionSetting,
  type PolicySource,
} from '../teams/retention-policy';
import { TrustedEntries } from '../teams/team.entity';
import { TeamsService } from '../teams/teams.service';

/** A team's trust-tier settings as they apply. */
export interface TierSettingsView {
  team: string;
  slug: string;
  /** Days an overlay entry stays unused before it expires (capped by the team's retention). */
  overlayRetentionDays: number;
  /** The overlay retention as set (team or OVERLAY_RETENTION_DAYS), before the cap. */
  overlayRetentionSetting: number;
  overlayRetentionSource: PolicySource;
  /** replaceable: a later trusted upload replaces an entry; immutable: the first one stays. */
  trustedEntries: TrustedEntries;
  /** What the team's overlays hold now (counted in its quota). */
  overlays: { scopes: number; artifacts: number; bytes: number };
}

/** Changes: each field undefined = unchanged. */
export interface TierSettingsChange {
  /** Whole days (1 to 36500) or "default" (OVERLAY_RETENTION_DAYS). */
  overlayRetentionDays?: unknown;
  /** "replaceable" or "immutable". */
  trustedEntries?: unknown;
}

/**
 * Per-team trust-tier settings (issue 16): overlay retention and immutable trusted entries
 * (first trusted write wins). Changes reach every process within AUTH_RECHECK_MS (the team row
 * is read with the token).
 */
@Injectable()
export class TierSettingsService {
  private readonly defaults: RetentionDefaults;

  constructor(
    private readonly dataSource: DataSource,
    private readonly teams: TeamsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.defaults = config.retention;
  }

  /** 404 for an unknown team. */
  async get(teamRef: string): Promise<TierSettingsView> {
    const team = await this.teams.get(teamRef);
    return this.view(team.id);
  }

  /** 400 for a bad value or no change; 404 for an unknown team. */
  async set(teamRef: string, change: TierSettingsChange): Promise<TierSettingsView> {
    const updates: Record<string, unknown> = {};
    if (change.overlayRetentionDays !== undefined) {
      try {
        updates.overlay_retention_days = parseRetentionSetting(change.overlayRetentionDays);
      } catch (error) {
        if (error instanceof InvalidPolicyError) {
          throw AppException.badRequest(`overlay ${error.message}`);
        }
        throw error;
      }
    }
    if (change.trustedEntries !== undefined) {
      const values: unknown[] = Object.values(TrustedEntries);
      if (!values.includes(change.trustedEntries)) {
        throw AppException.badRequest(
          `trustedEntries must be "replaceable" or "immutable" (got ${JSON.stringify(change.trustedEntries)})`,
        );
      }
      updates.trusted_entries = change.trustedEntries;
    }
    const columns = Object.keys(updates);
    if (columns.length === 0) {
      throw AppException.badRequest('give overlayRetentionDays and/or trustedEntries to change');
    }
    const team = await this.teams.get(teamRef);
    await this.dataSource.query(
      `UPDATE teams SET ${columns.map((column, i) => `${column} = $${i + 2}`).join(', ')} WHERE id = $1`,
      [team.id, ...Object.values(updates)],
    );
    return this.view(team.id);
  }

  private async view(teamId: string): Promise<TierSettingsView> {
    const [row] = await this.dataSource.query(
      `SELECT t.id, t.slug, t.retention_days, t.quota_bytes, t.overlay_retention_days,
              t.trusted_entries,
              (SELECT count(DISTINCT overlay_scope) FROM artifacts
                WHERE team_id = t.id AND overlay_scope <> '') AS scopes,
              (SELECT count(*) FROM artifacts
                WHERE team_id = t.id AND overlay_scope <> '') AS artifacts,
              (SELECT COALESCE(sum(size), 0) FROM artifacts
                WHERE team_id = t.id AND overlay_scope <> '') AS bytes
         FROM teams t WHERE t.id = $1`,
      [teamId],
    );
    if (!row) throw AppException.notFound(`no team ${JSON.stringify(teamId)}`);
    const overlayRetention = overlayRetentionOf(row, this.defaults);
    return {
      team: row.id,
      slug: row.slug,
      overlayRetentionDays: overlayRetention.days,
      overlayRetentionSetting: overlayRetention.setting,
      overlayRetentionSource: overlayRetention.source,
      trustedEntries: row.trusted_entries,
      overlays: {
        scopes: Number(row.scopes),
        artifacts: Number(row.artifacts),
        bytes: Number(row.bytes),
      },
    };
  }
}
