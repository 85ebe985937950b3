import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ArtifactsRepository } from '../artifacts/artifacts.repository';
import { TeamsService } from '../teams/teams.service';
import { parseRequestDuration } from '../tokens/duration';
import { ArtifactReaper, REMOVAL_BATCH, RemovalResult } from './artifact-reaper';

export interface PurgeResult extends RemovalResult {
  team: string;
  slug: string;
  /** Artifacts uploaded before this instant were removed. */
  uploadedBefore: string;
}

/** `teamcache artifacts purge` and POST /admin/teams/:team/purge. */
@Injectable()
export class ArtifactPurgeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly rows: ArtifactsRepository,
    private readonly teams: TeamsService,
    private readonly reaper: ArtifactReaper,
  ) {}

  /**
   * Removes a team's artifacts uploaded more than `olderThan` (30m, 12h, 7d, ...) ago, or all
   * of them: rows first, then blobs. The cut-off is fixed when the purge starts, so uploads made
   * while it runs stay.
   */
  async purge(teamRef: string, olderThan?: string): Promise<PurgeResult> {
    const ageMs = olderThan === undefined ? 0 : parseRequestDuration(olderThan);
    const team = await this.teams.get(teamRef);
    const [{ now }] = await this.dataSource.query('SELECT now() AS now');
    const cutoff = new Date((now as Date).getTime() - ageMs);
    const result = await this.reaper.drain(team.id, () =>
      this.rows.deleteUploadedBefore(team.id, cutoff, REMOVAL_BATCH),
    );
    return { team: team.id, slug: team.slug, uploadedBefore: cutoff.toISOString(), ...result };
  }
}
