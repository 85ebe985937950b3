import { Inject, Injectable } from '@nestjs/common';
import { AppException } from '../common/app-exception';
import { ErrorCode } from '../common/error-codes';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { formatBytes } from '../common/byte-size';
import { teamPolicyOf } from '../teams/retention-policy';
import { ArtifactsRepository } from './artifacts.repository';
import type { RetentionDefaults } from '../config/retention-defaults';
import { TRUSTED_NAMESPACE } from '../trust/artifact-space';

interface QuotaUsage {
  /** null: no quota. */
  quotaBytes: number | null;
  storedBytes: number;
}

/**
 * The hard limit of QUOTA_MODE=reject. A team's stored bytes are a SUM over its artifacts,
 * answered from the (team_id, last_accessed_at) INCLUDE (size) index, so it is always exact and
 * nothing has to be kept in step on upload and delete. Under QUOTA_MODE=evict nothing here
 * touches the database: the sweeper enforces the quota.
 */
@Injectable()
export class QuotaService {
  private readonly defaults: RetentionDefaults;

  constructor(
    private readonly rows: ArtifactsRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.defaults = config.retention;
  }

  /**
   * 403 remote_caching_over_limit when storing `size` bytes under `hash` in `namespace`
   * (replacing what that hash holds there now) would take the team over its quota: overlay
   * entries count like trusted ones. Called before the body is read.
   */
  async assertCanStore(
    teamId: string,
    hash: string,
    size: number,
    namespace: string = TRUSTED_NAMESPACE,
  ): Promise<void> {
    if (this.defaults.quotaMode !== 'reject') return;
    const usage = await this.usage(teamId, { hash, namespace });
    if (usage.quotaBytes === null || usage.storedBytes + size <= usage.quotaBytes) return;
    throw AppException.forbidden(
      `team storage quota of ${formatBytes(usage.quotaBytes)} reached (${formatBytes(usage.storedBytes)} stored); uploads are refused until artifacts expire, are purged, or the quota is raised`,
      ErrorCode.RemoteCachingOverLimit,
    );
  }

  /** True while uploads are blocked: QUOTA_MODE=reject and the team is at or over its quota. */
  async isOverLimit(teamId: string): Promise<boolean> {
    if (this.defaults.quotaMode !== 'reject') return false;
    const usage = await this.usage(teamId);
    return usage.quotaBytes !== null && usage.storedBytes >= usage.quotaBytes;
  }

  /** The team's effective quota and its stored bytes, not counting the row `except` names. */
  private async usage(
    teamId: string,
    except?: { hash: string; namespace: string },
  ): Promise<QuotaUsage> {
    const row = await this.rows.quotaUsage(
      teamId,
      except?.hash ?? '',
      except?.namespace ?? TRUSTED_NAMESPACE,
    );
    if (!row) return { quotaBytes: null, storedBytes: 0 };
    return {
      quotaBytes: teamPolicyOf(row, this.defaults).quotaBytes,
      storedBytes: Number(row.stored) - Number(row.replaced ?? 0),
    };
  }
}
