import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { BLOB_STORAGE, type BlobStorage } from '../storage/blob-storage';
import { parseBlobKey } from '../storage/blob-keys';
import { ArtifactsRepository } from './artifacts.repository';

/** Misses are collected this long, then checked. */
const REPAIR_DELAY_MS = 250;
/** A storm of distinct misses is checked in batches of at most this many. */
const MAX_SUSPECTS = 5_000;

/**
 * A read found an artifact row whose body storage did not have (deleted in the bucket by hand,
 * a lifecycle rule, a purge on another replica a moment ago). Such rows would count against
 * quotas and answer the query route forever, so they are noted here and checked shortly after,
 * off the request path: storage is asked again, directly (BLOB_STORAGE never remembers
 * absence), and only a row that still names that very body is deleted. Bodies are written once
 * under keys of their own (blob-keys.ts), so a body storage says is gone never comes back, and
 * a later upload of the hash, with its own key, is never touched. Rows from before versions
 * (one key per hash) are deleted only if written before the evidence was taken.
 */
@Injectable()
export class VanishedBlobRepair implements OnModuleDestroy {
  private readonly logger = new Logger(VanishedBlobRepair.name);
  /** Blob keys, each with its team and hash. */
  private suspects = new Set<string>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private closed = false;

  constructor(
    private readonly rows: ArtifactsRepository,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
  ) {}

  onModuleDestroy(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** A row named `blobKey`, which storage did not have. */
  suspect(blobKey: string): void {
    if (this.closed || this.suspects.size >= MAX_SUSPECTS) return;
    this.suspects.add(blobKey);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.running || this.closed || this.suspects.size === 0) return;
    this.timer = setTimeout(() => void this.run(), REPAIR_DELAY_MS);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    const batch = [...this.suspects];
    this.suspects = new Set();
    try {
      await this.repair(batch);
    } catch (error) {
      this.logger.warn(
        `could not check ${batch.length} rows for lost blobs: ${(error as Error).message}`,
      );
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async repair(keys: string[]): Promise<void> {
    // Taken before storage is asked: only rows older than this evidence may go.
    const evidenceAt = await this.rows.now();
    for (const key of keys) {
      if (this.closed) return;
      const parts = parseBlobKey(key);
      if (!parts || (await this.storage.stat(key))) continue;
      const dropped = await this.rows.dropRowNaming(
        parts.teamId,
        parts.hash,
        parts.version,
        evidenceAt,
      );
      if (dropped) this.logger.warn(`blob ${key} is missing from storage; dropped its row`);
    }
  }
}
