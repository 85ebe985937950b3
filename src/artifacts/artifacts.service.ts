import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
import { MeasuredBody } from '../storage/measured-body';
import { TrustedEntries } from '../teams/team.entity';
import {
  type ArtifactSpace,
  readNamespacesOf,
  TRUSTED_NAMESPACE,
  visibleRow,
  writeNamespaceOf,
} from '../trust/artifact-space';
import { ArtifactHeaders, ArtifactIndexCache, CurrentArtifact } from './artifact-index.cache';
import {
  ArtifactExistsError,
  ArtifactSummaryRow,
  ArtifactsRepository,
  type ArtifactWriter,
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

/**
 * Who uploads, as the upload path needs it: the space it writes (its overlay when untrusted),
 * the token recorded as the writer, and whether the team's trusted entries are immutable.
 */
export interface Uploader extends ArtifactSpace, ArtifactWriter {
  trustedEntries: TrustedEntries;
}

/** How an upload ended when it did not fail. */
export interface UploadOutcome {
  /** Bytes received (stored, or read and dropped). */
  size: number;
  /**
   * The team's trusted entries are immutable and this hash already had one: the body was read
   * and dropped, nothing changed (answered like a stored upload; counted in a metric).
   */
  discarded: boolean;
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
   * Streams the body to a key of its own (a fresh version) in the uploader's namespace (its
   * overlay when untrusted: it never creates or replaces a trusted row), then commits the row
   * that names it with the uploader as its writer (the stored size is the counted one; a
   * chunked body, `meta.size` null, is cut with 413 past MAX_ARTIFACT_SIZE and, under
   * QUOTA_MODE=reject, checked against the quota once counted): the row's commit is the one
   * point where the upload becomes visible, with all of its own headers, on every process.
   * Under QUOTA_MODE=reject an upload that would take the team over its quota is refused before
   * the body is read. An upload that took longer than the commit deadline (REQUEST_TIMEOUT_MS)
   * is refused with 503 (the sweeper may already count its body as an orphan). Rejects with 401
   * when the team was deleted meanwhile. Either way its body is deleted again.
   * `ifAbsent` (Nx: entries are immutable): an artifact the uploader already sees is refused
   * with 409 conflict, before the body is read when this process already knows it, else at the
   * commit (which then writes nothing). A trusted upload to a team whose trusted entries are
   * immutable, of a hash already stored there, is read and dropped (`discarded`).
   */
  async upload(
    uploader: Uploader,
    hash: string,
    body: Readable,
    meta: UploadMetadata,
    options: { ifAbsent?: boolean } = {},
  ): Promise<UploadOutcome> {
    const started = performance.now();
    const { teamId } = uploader;
    const namespace = writeNamespaceOf(uploader);
    const firstWins =
      namespace === TRUSTED_NAMESPACE && uploader.trustedEntries === TrustedEntries.Immutable;
    if (options.ifAbsent && (await this.currentOf(uploader, hash))) throw artifactExists();
    if (firstWins && (await this.currentIn(teamId, hash, namespace))) {
      return { size: await this.discard(body, meta), discarded: true };
    }
    await this.quota.assertCanStore(teamId, hash, meta.size ?? 0, namespace);
    const version = newBlobVersion();
    const key = artifactBlobKey(teamId, hash, version);
    const stored = await this.storage.put(key, body, meta.size ?? { atMost: this.maxArtifactSize });
    if (meta.size === null) {
      // A chunked body's size is known only now: the quota sees the counted bytes.
      await this.quota
        .assertCanStore(teamId, hash, stored.size, namespace)
        .catch(async (error: unknown) => {
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
        namespace,
        version,
        writer: { tokenId: uploader.tokenId, tokenName: uploader.tokenName },
        stored,
        meta,
        beforeCommit,
        ifAbsent: options.ifAbsent || firstWins,
      });
    } catch (error) {
      // Known not committed: the body goes now (a failure leaves it to the orphan sweep).
      // Any other failure may have committed after all, so the body stays for the sweeps.
      const notCommitted =
        error instanceof TeamGoneError ||
        error instanceof UploadDeadlineError ||
        error instanceof ArtifactExistsError;
      if (notCommitted) await this.storage.delete(key).catch(() => undefined);
      if (error instanceof ArtifactExistsError) {
        // Another trusted upload of this hash committed first: under immutable entries it wins.
        if (firstWins && !options.ifAbsent) return { size: stored.size, discarded: true };
        throw artifactExists();
      }
      if (error instanceof TeamGoneError) {
        throw AppException.unauthorized('the team of this token no longer exists');
      }
      if (error instanceof UploadDeadlineError) {
        throw AppException.unavailable(`${error.message} (REQUEST_TIMEOUT_MS); nothing was stored`);
      }
      throw error;
    } finally {
      this.forget(teamId, hash, namespace);
    }
    return { size: stored.size, discarded: false };
  }

  /**
   * Reads a body that will not be stored to its end (the client is sending it anyway, and the
   * connection stays usable), held to the same length rules as a stored one; its size.
   */
  private async discard(body: Readable, meta: UploadMetadata): Promise<number> {
    const measured = new MeasuredBody(meta.size ?? { atMost: this.maxArtifactSize });
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    await pipeline(body, measured, sink);
    return measured.stored().size;
  }

  /**
   * The headers and a stream of the bytes of the artifact's current upload, or null. Counts as
   * a hit. The row (from memory for up to INDEX_RECHECK_MS) names the body; a body that storage
   * no longer has is a miss, and its row is checked for removal off the request path.
   */
  async download(
    space: ArtifactSpace,
    hash: string,
  ): Promise<{ meta: ArtifactHeaders; blob: BlobDownload } | null> {
    const { teamId } = space;
    const current = await this.currentOf(space, hash);
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
    this.accesses.recordHit(teamId, hash, current.namespace);
    return { meta: current.headers, blob };
  }

  /**
   * What a GET (headers and body: a hit) or a HEAD (headers and size) finds for a reader of
   * `space` (the trusted entry, else its own overlay's: readNamespacesOf), or null.
   */
  async find(
    space: ArtifactSpace,
    hash: string,
    method: 'GET' | 'HEAD',
  ): Promise<FoundArtifact | null> {
    if (method === 'HEAD') return this.head(space, hash);
    const download = await this.download(space, hash);
    return download && { meta: download.meta, size: download.blob.size, blob: download.blob };
  }

  /** The headers with the stored size, or null; not counted as a hit (turbo --dry uses it). */
  async head(
    space: ArtifactSpace,
    hash: string,
  ): Promise<{ meta: ArtifactHeaders; size: number } | null> {
    const { teamId } = space;
    const current = await this.currentOf(space, hash);
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

  /**
   * Every requested hash as a key: the summary of the entry a reader of `space` sees (as GET
   * would) when present, null when not.
   */
  async query(
    space: ArtifactSpace,
    hashes: string[],
  ): Promise<Record<string, ArtifactSummary | null>> {
    const normalised = [...new Set(hashes.map((h) => h.toLowerCase()))];
    const rows = await this.rows.summaries(space.teamId, normalised, readNamespacesOf(space));
    const byHash = new Map<string, ArtifactSummaryRow[]>();
    for (const row of rows) byHash.set(row.hash, [...(byHash.get(row.hash) ?? []), row]);
    const answer: Record<string, ArtifactSummary | null> = {};
    for (const hash of hashes) {
      const row = visibleRow(byHash.get(hash.toLowerCase()) ?? [], space);
      answer[hash] = row ? summary(row) : null;
    }
    return answer;
  }

  /** The row a reader of `space` sees: the trusted one, else its own overlay's; or null. */
  private async currentOf(space: ArtifactSpace, hash: string): Promise<CurrentArtifact | null> {
    for (const namespace of readNamespacesOf(space)) {
      const current = await this.currentIn(space.teamId, hash, namespace);
      if (current) return current;
    }
    return null;
  }

  /** The row in one namespace, from memory when read less than INDEX_RECHECK_MS ago. */
  private async currentIn(
    teamId: string,
    hash: string,
    namespace: string,
  ): Promise<CurrentArtifact | null> {
    const key = indexKey(teamId, hash, namespace);
    const cached = this.index.get(key);
    if (cached !== undefined) return cached;
    // One read per key at a time: when an entry expires under load (a CI fleet asking for the
    // same hash), the requests in between share that read instead of all querying at once.
    const loading = this.loading.get(key);
    if (loading) return loading;
    const begun = this.index.begin();
    const load = this.rows.findCurrent(teamId, hash, namespace).then((current) => {
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
  private forget(teamId: string, hash: string, namespace: string): void {
    const key = indexKey(teamId, hash, namespace);
    this.index.forget(key);
    this.loading.delete(key);
  }

  /** The row named a body storage does not have: a miss now, the row checked for removal soon. */
  private vanished(teamId: string, hash: string, current: CurrentArtifact): void {
    this.forget(teamId, hash, current.namespace);
    this.repair.suspect(current.blobKey);
  }

  /** A stored body of another size than its row records is never served (verify finds it). */
  private mismatched(current: CurrentArtifact, storedSize: number): void {
    this.logger.warn(
      `blob ${current.blobKey} holds ${storedSize} bytes, its row says ${current.size}: served as a miss (teamcache artifacts verify --repair removes it)`,
    );
  }
}

/** The trusted namespace keeps the key it had before trust tiers; overlays add `@<scope>`. */
function indexKey(teamId: string, hash: string, namespace: string): string {
  return namespace === TRUSTED_NAMESPACE ? `${teamId}/${hash}` : `${teamId}/${hash}@${namespace}`;
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
