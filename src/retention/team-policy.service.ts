import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TeamsService } from '../teams/teams.service';
import {
  EffectivePolicy,
  effectivePolicy,
  InvalidPolicyError,
  parseQuotaSetting,
  parseRetentionSetting,
} from './retention-policy';
import type { RetentionDefaults } from '../config/retention-defaults';

/** A team's retention and quota as they apply, with where each value comes from. */
export interface TeamPolicyView extends EffectivePolicy {
  team: string;
  slug: string;
  artifacts: number;
  storedBytes: number;
}

/** Policy changes: each field `undefined` = unchanged, `'default'` = back to the server default. */
export interface PolicyChange {
  /** Whole days, or 'default'. */
  retentionDays?: unknown;
  /** A size (10GiB, bytes), 'none' or 'default'. */
  quota?: unknown;
}

/** Per-team overrides of RETENTION_DAYS and TEAM_QUOTA_BYTES (admin API and CLI). */
@Injectable()
export class TeamPolicyService {
  private readonly defaults: RetentionDefaults;

  constructor(
    private readonly dataSource: DataSource,
    private readonly teams: TeamsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.defaults = config.retention;
  }

  async get(teamRef: string): Promise<TeamPolicyView> {
    const team = await this.teams.get(teamRef);
    return this.view(team.id);
  }

  async set(teamRef: string, change: PolicyChange): Promise<TeamPolicyView> {
    if (change.retentionDays === undefined && change.quota === undefined) {
      throw AppException.badRequest('give retentionDays and/or quota to change');
    }
    const updates = settings(change);
    const team = await this.teams.get(teamRef);
    const columns = Object.keys(updates);
    await this.dataSource.query(
      `UPDATE teams SET ${columns.map((column, i) => `${column} = $${i + 2}`).join(', ')} WHERE id = $1`,
      [team.id, ...Object.values(updates)],
    );
    return this.view(team.id);
  }

  private async view(teamId: string): Promise<TeamPolicyView> {
    const [row] = await this.dataSource.query(
      `SELECT t.id, t.slug, t.retention_days, t.quota_bytes,
              (SELECT count(*) FROM artifacts a WHERE a.team_id = t.id) AS artifacts,
              (SELECT COALESCE(sum(a.size), 0) FROM artifacts a WHERE a.team_id = t.id) AS stored
         FROM teams t WHERE t.id = $1`,
      [teamId],
    );
    if (!row) throw AppException.notFound(`no team ${JSON.stringify(teamId)}`);
    return {
      team: row.id,
      slug: row.slug,
      ...effectivePolicy(
        {
          retentionDays: row.retention_days,
          quotaBytes: row.quota_bytes === null ? null : Number(row.quota_bytes),
        },
        this.defaults,
      ),
      artifacts: Number(row.artifacts),
      storedBytes: Number(row.stored),
    };
  }
}

/** The columns to write; a bad value is a 400 before anything is read. */
function settings(change: PolicyChange): Record<string, number | null> {
  const updates: Record<string, number | null> = {};
  try {
    if (change.retentionDays !== undefined) {
      updates.retention_days = parseRetentionSetting(change.retentionDays);
    }
    if (change.quota !== undefined) updates.quota_bytes = parseQuotaSetting(change.quota);
  } catch (error) {
    if (error instanceof InvalidPolicyError) throw AppException.badRequest(error.message);
    throw error;
  }
  return updates;
}
