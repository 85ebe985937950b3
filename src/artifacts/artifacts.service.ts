import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { QuotaService } from './quota.service';
import { AppException } from '../common/app-exception';
import {
  BLOB_STORAGE,
  BlobDownload,
  BlobStorage,
  StorageUnavailableError,
} from '../storage/blob-storage';
import { ArtifactAccessRecorder } from './artifact-access.recorder';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { artifactBlobKey, newBlobVersion } from '../storage/blob-keys';
import type { StoredBody } from '../storage/measured-body';
import { ArtifactHeaders, ArtifactIndexCache, CurrentArtifact } from './artifact-index.cache';
import {
  ArtifactExistsError,
  ArtifactSummaryRow,
  ArtifactsRepository,
  TeamGoneError,
} from './artifacts.repository';
import type { FoundArtifact } from './send-artifact';
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
 * How long a process trusts the artifact row it last read (or its absence) without asking
 * PostgreSQL again: the bound on how long another worker's or replica's upload, replacement or
 * deletion stays unseen here. Changes made through this process are seen at once.
 */
export const INDEX_RECHECK_MS = 1_000;
/** Entries are ~300 bytes: 20,000 of them stay under 6 MiB. */
const INDEX_MAX_ENTRIES = 20_000;

/** An upload that did not reach its commit within the deadline (its body is never served). */
export class UploadDeadlineError extends Error {
  constructor(elapsedMs: number, deadlineMs: number) {
    super(`upload took ${Math.round(elapsedMs)} ms, over the ${deadlineMs} ms commit deadline`);
    this.name = 'UploadDeadlineError';
  }
}

function artifactExists(): AppException {
  return AppException.conflict(`this artifact already exists (entries are immutable)`);
}

@Injectable()
export class ArtifactsService {
  private readonly logger = new Logger(ArtifactsService.name);
  private readonly index = new ArtifactIndexCache(INDEX_RECHECK_MS, INDEX_MAX_ENTRIES);
  /** Row reads in flight, by index key. */
  private readonly loading = new Map<string, Promise<CurrentArtifact | null>>();
  private readonly commitDeadlineMs: number;
  private readonly maxArtifactSize: number;

  constructor(
    private readonly rows: ArtifactsRepository,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    private readonly accesses: ArtifactAccessRecorder,
    private readonly quota: QuotaService,
    private readonly repair: VanishedBlobRepair,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.commitDeadlineMs = config.blobs.commitDeadlineMs;
    this.maxArtifactSize = config.maxArtifactSize;
  }

  /**
   * Streams the body to a key of its own (a fresh version), then commits the row that names it
   * (the stored size is the counted one; a chunked body, `meta.size` null, is cut with 413 past
   * MAX_ARTIFACT_SIZE and, under QUOTA_MODE=reject, checked against the quota once counted):
   * the row's commit is the one point where the upload becomes visible, with all of its own
   * headers, on every process. Under QUOTA_MODE=reject an upload that would take the team over
   * its quota is refused before the body is read. An upload that took longer than the commit
   * deadline (REQUEST_TIMEOUT_MS) is refused with 503 (the sweeper may already count its body
   * as an orphan). Rejects with 401 when the team was deleted meanwhile. Either way its body is
   * deleted again. `ifAbsent` (Nx: entries are immutable): an artifact that already exists is
   * refused with 409 conflict, before the body is read when this process already knows it, else
   * at the commit (which then writes nothing).
   */
  async upload(
    teamId: string,
    hash: string,
    body: Readable,
    meta: UploadMetadata,
    options: { ifAbsent?: boolean } = {},
  ): Promise<StoredBody> {
    const started = performance.now();
    if (options.ifAbsent && (await this.currentOf(teamId, hash))) throw artifactExists();
    await this.quota.assertCanStore(teamId, hash, meta.size ?? 0);
    const version = newBlobVersion();
    const key = artifactBlobKey(teamId, hash, version);
    const stored = await this.storage.put(key, body, meta.size ?? { atMost: this.maxArtifactSize });
    if (meta.size === null) {
      // A chunked body's size is known only now: the quota sees the counted bytes.
      await this.quota.assertCanStore(teamId, hash, stored.size).catch(async (error: unknown) => {
        await this.storage.delete(key).catch(() => undefined);
        throw error;
      });
    }
    const beforeCommit = () => {
      const elapsed = performance.now() - started;
      if (elapsed > this.commitDeadlineMs) {
        throw new UploadDeadlineError(elapsed, this.commitDeadlineMs);
      }
    };
    try {
      beforeCommit();
      await this.rows.commitVersion({
        teamId,
        hash,
        version,
        stored,
        meta,
        beforeCommit,
        ifAbsent: options.ifAbsent,
      });
    } catch (error) {
      // Known not committed: the body goes now (a failure leaves it to the orphan sweep).
      // Any other failure may have committed after all, so the body stays for the sweeps.
      const notCommitted =
        error instanceof TeamGoneError ||
        error instanceof UploadDeadlineError ||
        error instanceof ArtifactExistsError;
      if (notCommitted) await this.storage.delete(key).catch(() => undefined);
      if (error instanceof ArtifactExistsError) throw artifactExists();
      if (error instanceof TeamGoneError) {
        throw AppException.unauthorized('the team of this token no longer exists');
      }
      if (error instanceof UploadDeadlineError) {
        throw AppException.unavailable(`${error.message} (REQUEST_TIMEOUT_MS); nothing was stored`);
      }
      throw error;
    } finally {
      this.forget(teamId, hash);
    }
    return stored;
  }

  /**
   * The headers and a stream of the bytes of the artifact's current upload, or null. Counts as
   * a hit. The row (from memory for up to INDEX_RECHECK_MS) names the body; a body that storage
   * no longer has is a miss, and its row is checked for removal off the request path.
   */
  async download(
    teamId: string,
    hash: string,
  ): Promise<{ meta: ArtifactHeaders; blob: BlobDownload } | null> {
    const current = await this.currentOf(teamId, hash);
    if (!current) return null;
    const blob = await this.storage
      .get(current.blobKey)
      .catch((error: unknown) => this.goneOrThrow(current.blobKey, error));
    if (!blob) {
      this.vanished(teamId, hash, current);
      return null;
    }
    if (blob.size !== current.size) {
      release(blob);
      this.mismatched(current, blob.size);
      return null;
    }
    this.accesses.recordHit(teamId, hash);
    return { meta: current.headers, blob };
  }

  /** What a GET (headers and body: a hit) or a HEAD (headers and size) finds, or null. */
  async find(teamId: string, hash: string, method: 'GET' | 'HEAD'): Promise<FoundArtifact | null> {
    if (method === 'HEAD') return this.head(teamId, hash);
    const download = await this.download(teamId, hash);
    return download && { meta: download.meta, size: download.blob.size, blob: download.blob };
  }

  /** The headers with the stored size, or null; not counted as a hit (turbo --dry uses it). */
  async head(
    teamId: string,
    hash: string,
  ): Promise<{ meta: ArtifactHeaders; size: number } | null> {
    const current = await this.currentOf(teamId, hash);
    if (!current) return null;
    const stat = await this.storage.stat(current.blobKey);
    if (!stat) {
      this.vanished(teamId, hash, current);
      return null;
    }
    if (stat.size !== current.size) {
      this.mismatched(current, stat.size);
      return null;
    }
    return { meta: current.headers, size: stat.size };
  }

  /** Every requested hash as a key: its summary when present, null when not. */
  async query(teamId: string, hashes: string[]): Promise<Record<string, ArtifactSummary | null>> {
    const normalised = [...new Set(hashes.map((h) => h.toLowerCase()))];
    const rows = await this.rows.summaries(teamId, normalised);
    const byHash = new Map(rows.map((row) => [row.hash, row]));
    const answer: Record<string, ArtifactSummary | null> = {};
    for (const hash of hashes) {
      const row = byHash.get(hash.toLowerCase());
      answer[hash] = row ? summary(row) : null;
    }
    return answer;
  }

  /** The artifact's row as a read needs it, from memory when read less than INDEX_RECHECK_MS ago. */
  private async currentOf(teamId: string, hash: string): Promise<CurrentArtifact | null> {
    const key = indexKey(teamId, hash);
    const cached = this.index.get(key);
    if (cached !== undefined) return cached;
    // One read per key at a time: when an entry expires under load (a CI fleet asking for the
    // same hash), the requests in between share that read instead of all querying at once.
    const loading = this.loading.get(key);
    if (loading) return loading;
    const begun = this.index.begin();
    const load = this.rows.findCurrent(teamId, hash).then((current) => {
      this.index.set(key, current, begun);
      return current;
    });
    this.loading.set(key, load);
    try {
      return await load;
    } finally {
      if (this.loading.get(key) === load) this.loading.delete(key);
    }
  }

  /**
   * A read of a body that failed: when storage now says the body is gone (a purge or a
   * replacement's collection deleted it while the read began; some stores, s3rver among them,
   * fail such a read instead of finishing it), it is a miss; otherwise the failure stands.
   */
  private async goneOrThrow(blobKey: string, error: unknown): Promise<null> {
    if (!(error instanceof StorageUnavailableError)) throw error;
    const stat = await this.storage.stat(blobKey).catch(() => undefined);
    if (stat === null) return null;
    throw error;
  }

  /** This process changed the row: reads from now on (not one already in flight) read it anew. */
  private forget(teamId: string, hash: string): void {
    const key = indexKey(teamId, hash);
    this.index.forget(key);
    this.loading.delete(key);
  }

  /** The row named a body storage does not have: a miss now, the row checked for removal soon. */
  private vanished(teamId: string, hash: string, current: CurrentArtifact): void {
    this.forget(teamId, hash);
    this.repair.suspect(current.blobKey);
  }

  /** A stored body of another size than its row records is never served (verify finds it). */
  private mismatched(current: CurrentArtifact, storedSize: number): void {
    this.logger.warn(
      `blob ${current.blobKey} holds ${storedSize} bytes, its row says ${current.size}: served as a miss (teamcache artifacts verify --repair removes it)`,
    );
  }
}

function indexKey(teamId: string, hash: string): string {
  return `${teamId}/${hash}`;
}

/** Closes a download that will not be sent (a body already in memory has nothing to close). */
function release(blob: BlobDownload): void {
  if (!blob.bytes) blob.stream.destroy();
}

function summary(row: ArtifactSummaryRow): ArtifactSummary {
  const result: ArtifactSummary = { size: Number(row.size), taskDurationMs: row.duration_ms };
  if (row.tag !== null) result.tag = row.tag;
  if (row.sha !== null) result.sha = row.sha;
  if (row.dirty_hash !== null) result.dirtyHash = row.dirty_hash;
  return result;
}
