import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ArtifactsRepository } from '../artifacts/artifacts.repository';
import { TeamsService } from '../teams/teams.service';
import { parseRequestDuration } from '../tokens/duration';
import { AppException } from '../common/app-exception';
import { namespaceOf } from '../trust/artifact-space';
import { MAX_HASH_LENGTH, MAX_NX_HASH_LENGTH, nxStoredHash } from '../storage/blob-keys';
import { ArtifactReaper, REMOVAL_BATCH, RemovalResult } from './artifact-reaper';

export interface PurgeResult extends RemovalResult {
  team: string;
  slug: string;
  /** Artifacts uploaded before this instant were removed. */
  uploadedBefore: string;
  /** Only the versions this token wrote, when given. */
  writer?: string;
  /** Only this namespace (`trusted` or an overlay's scope), when given. */
  scope?: string;
  /** Only the versions of this hash (turbo's, and Nx's when it is decimal), when given. */
  hash?: string;
}

/** Which versions a purge takes besides its age; each unset = all. */
export interface PurgeFilter {
  /** A token id: a leaked token's writes, wherever they are. */
  writer?: string;
  /** `trusted` or an overlay's scope. */
  scope?: string;
  /** One hash (e.g. a broken immutable trusted entry): turbo's, and Nx's when it is decimal. */
  hash?: string;
}

/** The stored hashes a hash names (storage/blob-keys.ts): turbo's, and Nx's when decimal; or 400. */
function storedHashesOf(hash: string): string[] {
  if (!new RegExp(`^[0-9a-fA-F]{1,${MAX_HASH_LENGTH}}$`).test(hash)) {
    throw AppException.badRequest(`hash must be 1 to ${MAX_HASH_LENGTH} hex digits`);
  }
  const stored = [hash.toLowerCase()];
  if (new RegExp(`^[0-9]{1,${MAX_NX_HASH_LENGTH}}$`).test(hash)) stored.push(nxStoredHash(hash));
  return stored;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
   * of them, optionally only the versions one token wrote (`writer`: a version re-uploaded since
   * by another token is that token's and stays), one namespace holds (`scope`) or of one hash
   * (`hash`); the filters combine. Rows first, then blobs. The cut-off is fixed when the purge
   * starts, so uploads made while it runs stay. 400 for a bad duration, token id, scope or
   * hash; 404 for an unknown team.
   */
  async purge(teamRef: string, olderThan?: string, filter: PurgeFilter = {}): Promise<PurgeResult> {
    const ageMs = olderThan === undefined ? 0 : parseRequestDuration(olderThan);
    if (filter.writer !== undefined && !UUID.test(filter.writer)) {
      throw AppException.badRequest(
        `writer must be a token id (a UUID), got ${JSON.stringify(filter.writer)}`,
      );
    }
    const namespace = filter.scope === undefined ? undefined : namespaceOf(filter.scope);
    const hashes = filter.hash === undefined ? undefined : storedHashesOf(filter.hash);
    const team = await this.teams.get(teamRef);
    const [{ now }] = await this.dataSource.query('SELECT now() AS now');
    const cutoff = new Date((now as Date).getTime() - ageMs);
    const result = await this.reaper.drain(team.id, () =>
      this.rows.deleteUploadedBefore(team.id, cutoff, REMOVAL_BATCH, {
        namespace,
        writerTokenId: filter.writer?.toLowerCase(),
        hashes,
      }),
    );
    return {
      team: team.id,
      slug: team.slug,
      uploadedBefore: cutoff.toISOString(),
      ...(filter.writer === undefined ? {} : { writer: filter.writer.toLowerCase() }),
      ...(filter.scope === undefined ? {} : { scope: filter.scope }),
      ...(filter.hash === undefined ? {} : { hash: filter.hash }),
      ...result,
    };
  }
}
