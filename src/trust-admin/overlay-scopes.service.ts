import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import { ArtifactPurgeService, type PurgeResult } from '../retention/artifact-purge.service';
import { TeamsService } from '../teams/teams.service';
import { parseOverlayScope, InvalidOverlayScopeError } from '../trust/trust-tier';

/** An untrusted token bound to a scope, as the scope listing shows it. */
export interface ScopeToken {
  id: string;
  name: string | null;
  revokedAt: Date | null;
}

/** One overlay scope of a team: its untrusted tokens and what its overlay holds. */
export interface OverlayScopeView {
  scope: string;
  artifacts: number;
  /** Stored bytes of its entries (they count in the team's quota). */
  bytes: number;
  /** The latest upload into it; null while empty. */
  lastUploadAt: Date | null;
  tokens: ScopeToken[];
}

/** What deleting a scope did: the tokens revoked, then the entries purged. */
export interface ScopeDeletion extends PurgeResult {
  scope: string;
  revokedTokens: string[];
}

/**
 * A team's overlay scopes (issue 16): listed from its untrusted tokens and overlay entries
 * together (a scope exists while either does), and deleted with everything in them.
 */
@Injectable()
export class OverlayScopesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly teams: TeamsService,
    private readonly purges: ArtifactPurgeService,
  ) {}

  /** Every scope of the team, by name. 404 for an unknown team. */
  async list(teamRef: string): Promise<{ team: string; slug: string; scopes: OverlayScopeView[] }> {
    const team = await this.teams.get(teamRef);
    const [entries, tokens]: [
      { scope: string; artifacts: string; bytes: string; last_upload_at: Date }[],
      { scope: string; id: string; name: string | null; revoked_at: Date | null }[],
    ] = await Promise.all([
      this.dataSource.query(
        `SELECT overlay_scope AS scope, count(*) AS artifacts, sum(size) AS bytes,
                max(created_at) AS last_upload_at
           FROM artifacts WHERE team_id = $1 AND overlay_scope <> '' GROUP BY 1`,
        [team.id],
      ),
      this.dataSource.query(
        `SELECT overlay_scope AS scope, id, name, revoked_at FROM tokens
          WHERE team_id = $1 AND overlay_scope IS NOT NULL ORDER BY created_at, id`,
        [team.id],
      ),
    ]);
    const scopes = new Map<string, OverlayScopeView>();
    const scopeOf = (name: string) => {
      let view = scopes.get(name);
      if (!view) {
        view = { scope: name, artifacts: 0, bytes: 0, lastUploadAt: null, tokens: [] };
        scopes.set(name, view);
      }
      return view;
    };
    for (const row of entries) {
      Object.assign(scopeOf(row.scope), {
        artifacts: Number(row.artifacts),
        bytes: Number(row.bytes),
        lastUploadAt: row.last_upload_at,
      });
    }
    for (const row of tokens) {
      scopeOf(row.scope).tokens.push({ id: row.id, name: row.name, revokedAt: row.revoked_at });
    }
    return {
      team: team.id,
      slug: team.slug,
      scopes: [...scopes.values()].sort((a, b) => (a.scope < b.scope ? -1 : 1)),
    };
  }

  /**
   * Deletes a scope: revokes its tokens first (refused everywhere within AUTH_RECHECK_MS), then
   * purges its overlay, rows before blobs. 400 for a malformed scope name; 404 for an unknown
   * team or a scope with neither tokens nor entries.
   */
  async delete(teamRef: string, scope: string): Promise<ScopeDeletion> {
    try {
      parseOverlayScope(scope);
    } catch (error) {
      if (error instanceof InvalidOverlayScopeError) throw AppException.badRequest(error.message);
      throw error;
    }
    const team = await this.teams.get(teamRef);
    const [known] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM tokens WHERE team_id = $1 AND overlay_scope = $2)
           OR EXISTS (SELECT 1 FROM artifacts WHERE team_id = $1 AND overlay_scope = $2) AS known`,
      [team.id, scope],
    );
    if (!known.known) throw AppException.notFound(`team ${team.slug} has no scope ${scope}`);
    const [revoked]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE tokens SET revoked_at = now()
        WHERE team_id = $1 AND overlay_scope = $2 AND revoked_at IS NULL RETURNING id`,
      [team.id, scope],
    );
    const purged = await this.purges.purge(team.id, undefined, { scope });
    return { ...purged, scope, revokedTokens: revoked.map((row) => row.id) };
  }
}
