import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Readable } from 'node:stream';
import { In, Repository } from 'typeorm';
import { QuotaService } from '../retention/quota.service';
import { AppException } from '../common/app-exception';
import { BLOB_STORAGE, BlobDownload, BlobStorage } from '../storage/blob-storage';
import { ArtifactAccessRecorder } from './artifact-access.recorder';
import { Artifact } from './artifact.entity';
import { ArtifactHeaders, ArtifactMetadataCache } from './artifact-metadata.cache';
import { VanishedBlobRepair } from './vanished-blob.repair';
import type { UploadMetadata } from './upload-headers';

export interface ArtifactSummary {
  size: number;
  taskDurationMs: number;
  tag?: string;
  sha?: string;
  dirtyHash?: string;
}

/**
 * How long the headers of a hit are reused. A new upload changes the body's version, which voids
 * the entry at once; the TTL only bounds the rare case of a re-upload on another replica whose
 * row landed after this replica read the new body beside the old row.
 */
const METADATA_TTL_MS = 10_000;
/** Entries are ~250 bytes: 20,000 of them stay under 5 MiB. */
const METADATA_MAX_ENTRIES = 20_000;

/** PostgreSQL's foreign_key_violation SQLSTATE. */
const FK_VIOLATION = '23503';

/** Keys are built here only, from the resolved team id and a validated hash. */
export function blobKey(teamId: string, hash: string): string {
  return `${teamId}/${hash}`;
}

@Injectable()
export class ArtifactsService {
  private readonly headers = new ArtifactMetadataCache(METADATA_TTL_MS, METADATA_MAX_ENTRIES);

  constructor(
    @InjectRepository(Artifact) private readonly artifacts: Repository<Artifact>,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly accesses: ArtifactAccessRecorder,
    private readonly quota: QuotaService,
    private readonly repair: VanishedBlobRepair,
  ) {}

  /**
   * Streams the body to storage, then records its metadata: the row exists only once the
   * whole body does, and a row is what makes an artifact visible. Under QUOTA_MODE=reject an
   * upload that would take the team over its quota is refused before the body is read.
   */
  async upload(teamId: string, hash: string, body: Readable, meta: UploadMetadata): Promise<void> {
    await this.quota.assertCanStore(teamId, hash, meta.size);
    await this.storage.put(blobKey(teamId, hash), body, meta.size);
    try {
      await this.recordUpload(teamId, hash, meta);
    } finally {
      // A hit that read the new body beside the old row must not keep that pair.
      this.headers.forget(blobKey(teamId, hash));
    }
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

  /**
   * The headers and a stream of the bytes, or null. Counts as a hit. Storage is asked first: a
   * missing blob is a miss without a database round trip, and the headers of a recent hit on
   * the same body come from memory.
   */
  async download(
    teamId: string,
    hash: string,
  ): Promise<{ meta: ArtifactHeaders; blob: BlobDownload } | null> {
    const blob = await this.storage.get(blobKey(teamId, hash));
    if (!blob) {
      this.repair.suspect(teamId, hash);
      return null;
    }
    let meta: ArtifactHeaders | null;
    try {
      meta = await this.headersFor(teamId, hash, blob.version);
    } catch (error) {
      release(blob);
      throw error;
    }
    // A blob without a row (its upload failed to record, or its team was just deleted) is
    // never served.
    if (!meta) {
      release(blob);
      return null;
    }
    this.accesses.recordHit(teamId, hash);
    return { meta, blob };
  }

  /** The headers with the stored size, or null; not counted as a hit (turbo --dry uses it). */
  async head(
    teamId: string,
    hash: string,
  ): Promise<{ meta: ArtifactHeaders; size: number } | null> {
    const stat = await this.storage.stat(blobKey(teamId, hash));
    if (!stat) {
      this.repair.suspect(teamId, hash);
      return null;
    }
    const meta = await this.headersFor(teamId, hash, stat.version);
    return meta ? { meta, size: stat.size } : null;
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

  /** The row's headers, from memory when last read beside this very body. */
  private async headersFor(
    teamId: string,
    hash: string,
    version: string,
  ): Promise<ArtifactHeaders | null> {
    const key = blobKey(teamId, hash);
    const cached = this.headers.get(key, version);
    if (cached) return cached;
    const begun = this.headers.begin();
    const row = await this.artifacts.findOne({
      where: { teamId, hash },
      select: { durationMs: true, tag: true, sha: true, dirtyHash: true },
    });
    if (!row) return null;
    const meta: ArtifactHeaders = {
      durationMs: row.durationMs,
      tag: row.tag,
      sha: row.sha,
      dirtyHash: row.dirtyHash,
    };
    this.headers.set(key, version, meta, begun);
    return meta;
  }
}

/** Closes a download that will not be sent (a body already in memory has nothing to close). */
function release(blob: BlobDownload): void {
  if (!blob.bytes) blob.stream.destroy();
}

function summary(row: Artifact): ArtifactSummary {
  const result: ArtifactSummary = { size: row.size, taskDurationMs: row.durationMs };
  if (row.tag !== null) result.tag = row.tag;
  if (row.sha !== null) result.sha = row.sha;
  if (row.dirtyHash !== null) result.dirtyHash = row.dirtyHash;
  return result;
}
