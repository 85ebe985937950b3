import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ArtifactsRepository } from '../artifacts/artifacts.repository';
import { TeamsService } from '../teams/teams.service';
import {
  EffectivePolicy,
  teamPolicyOf,
  InvalidPolicyError,
  parseQuotaSetting,
  parseRetentionSetting,
} from '../teams/retention-policy';
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
    private readonly rows: ArtifactsRepository,
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
      'SELECT id, slug, retention_days, quota_bytes FROM teams WHERE id = $1',
      [teamId],
    );
    if (!row) throw AppException.notFound(`no team ${JSON.stringify(teamId)}`);
    const usage = await this.rows.usageOfTeam(teamId);
    return {
      team: row.id,
      slug: row.slug,
      ...teamPolicyOf(row, this.defaults),
      artifacts: usage.artifacts,
      storedBytes: usage.bytes,
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
