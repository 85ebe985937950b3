import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Readable } from 'node:stream';
import { In, Repository } from 'typeorm';
import { QuotaService } from '../retention/quota.service';
import { AppException } from '../common/app-exception';
import { BLOB_STORAGE, BlobDownload, BlobStorage } from '../storage/blob-storage';
import { ArtifactAccessRecorder } from './artifact-access.recorder';
import { Artifact } from './artifact.entity';
import type { UploadMetadata } from './upload-headers';

export interface ArtifactSummary {
  size: number;
  taskDurationMs: number;
  tag?: string;
  sha?: string;
  dirtyHash?: string;
}

/** PostgreSQL's foreign_key_violation SQLSTATE. */
const FK_VIOLATION = '23503';

/** Keys are built here only, from the resolved team id and a validated hash. */
export function blobKey(teamId: string, hash: string): string {
  return `${teamId}/${hash}`;
}

@Injectable()
export class ArtifactsService {
  private readonly logger = new Logger(ArtifactsService.name);

  constructor(
    @InjectRepository(Artifact) private readonly artifacts: Repository<Artifact>,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly accesses: ArtifactAccessRecorder,
    private readonly quota: QuotaService,
  ) {}

  /**
   * Streams the body to storage, then records its metadata: the row exists only once the
   * whole body does, and a row is what makes an artifact visible. Under QUOTA_MODE=reject an
   * upload that would take the team over its quota is refused before the body is read.
   */
  async upload(teamId: string, hash: string, body: Readable, meta: UploadMetadata): Promise<void> {
    await this.quota.assertCanStore(teamId, hash, meta.size);
    await this.storage.put(blobKey(teamId, hash), body, meta.size);
    await this.recordUpload(teamId, hash, meta);
  }

  private async recordUpload(teamId: string, hash: string, meta: UploadMetadata): Promise<void> {
    await this.artifacts
      .query(
        `INSERT INTO artifacts (team_id, hash, size, duration_ms, tag, sha, dirty_hash, client_ci, client_interactive)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (team_id, hash) DO UPDATE SET
         size = EXCLUDED.size, duration_ms = EXCLUDED.duration_ms, tag = EXCLUDED.tag, sha = EXCLUDED.sha,
         dirty_hash = EXCLUDED.dirty_hash, client_ci = EXCLUDED.client_ci,
         client_interactive = EXCLUDED.client_interactive, created_at = now(), last_accessed_at = now()`,
        [
          teamId,
          hash,
          meta.size,
          meta.durationMs,
          meta.tag,
          meta.sha,
          meta.dirtyHash,
          meta.clientCi,
          meta.clientInteractive,
        ],
      )
      .catch(async (error: unknown) => {
        // The team was deleted while its token was still trusted from cache (up to 5 s): drop
        // the blob (it would stay invisible anyway) and tell the client why.
        if ((error as { driverError?: { code?: string } }).driverError?.code !== FK_VIOLATION) {
          throw error;
        }
        await this.storage.delete(blobKey(teamId, hash)).catch(() => undefined);
        throw AppException.unauthorized('the team of this token no longer exists');
      });
  }

  /** The metadata and a stream of the bytes, or null. Counts as a hit. */
  async download(
    teamId: string,
    hash: string,
  ): Promise<{ meta: Artifact; blob: BlobDownload } | null> {
    const meta = await this.artifacts.findOneBy({ teamId, hash });
    if (!meta) return null;
    const blob = await this.storage.get(blobKey(teamId, hash));
    if (!blob) return this.forgetMissingBlob(meta);
    this.accesses.recordHit(teamId, hash);
    return { meta, blob };
  }

  /** The metadata with the stored size, or null; not counted as a hit (turbo --dry uses it). */
  async head(teamId: string, hash: string): Promise<{ meta: Artifact; size: number } | null> {
    const meta = await this.artifacts.findOneBy({ teamId, hash });
    if (!meta) return null;
    const stat = await this.storage.stat(blobKey(teamId, hash));
    if (!stat) return this.forgetMissingBlob(meta);
    return { meta, size: stat.size };
  }

  /** Every requested hash as a key: its summary when present, null when not. */
  async query(teamId: string, hashes: string[]): Promise<Record<string, ArtifactSummary | null>> {
    const normalised = [...new Set(hashes.map((h) => h.toLowerCase()))];
    const rows = normalised.length
      ? await this.artifacts.findBy({ teamId, hash: In(normalised) })
      : [];
    const byHash = new Map(rows.map((row) => [row.hash, row]));
    const answer: Record<string, ArtifactSummary | null> = {};
    for (const hash of hashes) {
      const row = byHash.get(hash.toLowerCase());
      answer[hash] = row ? summary(row) : null;
    }
    return answer;
  }

  /** A row whose blob vanished (deleted in the bucket by hand) is a miss, and is repaired. */
  private async forgetMissingBlob(meta: Artifact): Promise<null> {
    this.logger.warn(`blob of ${meta.teamId}/${meta.hash} is missing; dropping its metadata`);
    // Only this row: a concurrent upload may have stored a new body and row meanwhile.
    await this.artifacts.query(
      `DELETE FROM artifacts WHERE team_id = $1 AND hash = $2
          AND created_at < $3::timestamptz + interval '1 millisecond'`,
      [meta.teamId, meta.hash, meta.createdAt],
    );
    return null;
  }
}

function summary(row: Artifact): ArtifactSummary {
  const result: ArtifactSummary = { size: row.size, taskDurationMs: row.durationMs };
  if (row.tag !== null) result.tag = row.tag;
  if (row.sha !== null) result.sha = row.sha;
  if (row.dirtyHash !== null) result.dirtyHash = row.dirtyHash;
  return result;
}
