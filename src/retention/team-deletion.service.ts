import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ArtifactsRepository } from '../artifacts/artifacts.repository';
import { TeamsService } from '../teams/teams.service';
import { ArtifactReaper, deletedRows } from './artifact-reaper';

export interface DeletedTeam {
  team: string;
  slug: string;
  artifacts: number;
  bytes: number;
  blobFailures: number;
  tokens: number;
  events: number;
}

/**
 * Deletes a team for good: its tokens, artifact metadata, usage events and the team row in one
 * transaction, then its blobs. Its tokens stop working once the auth layer's cached team
 * verification expires (AUTH_RECHECK_MS, 2 s).
 */
@Injectable()
export class TeamDeletionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly teams: TeamsService,
    private readonly reaper: ArtifactReaper,
    private readonly rows: ArtifactsRepository,
  ) {}

  async delete(teamRef: string): Promise<DeletedTeam> {
    const team = await this.teams.get(teamRef);
    const { artifacts, tokens, events } = await this.dataSource.transaction(async (manager) => {
      // Lock the team row first: an upload's artifact insert (FK) waits, then fails, rather
      // than slipping a row in between.
      await manager.query('SELECT 1 FROM teams WHERE id = $1 FOR UPDATE', [team.id]);
      const removed = deletedRows(await this.rows.deleteAllOfTeam(manager, team.id));
      const [counts] = await manager.query(
        `WITH tk AS (DELETE FROM tokens WHERE team_id = $1 RETURNING 1),
              ev AS (DELETE FROM usage_events WHERE team_id = $1 RETURNING 1)
         SELECT (SELECT count(*) FROM tk) AS tokens, (SELECT count(*) FROM ev) AS events`,
        [team.id],
      );
      await manager.query('DELETE FROM teams WHERE id = $1', [team.id]);
      return { artifacts: removed, tokens: Number(counts.tokens), events: Number(counts.events) };
    });
    const blobs = await this.reaper.deleteBlobs(team.id, artifacts);
    return {
      team: team.id,
      slug: team.slug,
      artifacts: blobs.artifacts,
      bytes: blobs.bytes,
      blobFailures: blobs.blobFailures,
      tokens,
      events,
    };
  }
}
