import { Inject, Injectable, Logger } from '@nestjs/common';
import { BlobGarbageRepository } from '../artifacts/blob-garbage.repository';
import { BLOB_STORAGE, BlobStorage } from '../storage/blob-storage';
import { artifactBlobKey } from '../storage/blob-keys';

/** A metadata row already deleted (DELETE ... RETURNING hash, size, blob_version). */
export interface RemovedArtifact {
  hash: string;
  size: number | string;
  blob_version: string | null;
}

export interface RemovalResult {
  artifacts: number;
  bytes: number;
  /** Blobs whose delete failed: logged and left behind (invisible without their rows). */
  blobFailures: number;
}

/** Runs one DELETE ... RETURNING hash, size, blob_version of at most REMOVAL_BATCH rows (a raw query result). */
export type DeleteBatch = () => Promise<unknown>;

/** TypeORM answers a DELETE (also one inside a WITH) with [rows, rowCount], a SELECT with rows. */
export function deletedRows(result: unknown): RemovedArtifact[] {
  if (!Array.isArray(result)) return [];
  return (
    result.length === 2 && Array.isArray(result[0]) ? result[0] : result
  ) as RemovedArtifact[];
}

/** Rows deleted per statement: bounds a statement's time, locks and RETURNING list. */
export const REMOVAL_BATCH = 1_000;
/** A runaway loop (rows re-appearing as fast as they go) ends after this many batches. */
const MAX_BATCHES = 10_000;
const BLOB_DELETE_CONCURRENCY = 8;

export const emptyRemoval = (): RemovalResult => ({ artifacts: 0, bytes: 0, blobFailures: 0 });

export function addRemoval(into: RemovalResult, from: RemovalResult): RemovalResult {
  into.artifacts += from.artifacts;
  into.bytes += from.bytes;
  into.blobFailures += from.blobFailures;
  return into;
}

/**
 * Removes artifacts in the one safe order: the metadata row first (it is what makes an
 * artifact visible), then the body it named. Every upload has a key of its own (blob-keys.ts),
 * so a body deleted here is never one that a later upload of the same hash wrote. A body whose
 * delete fails goes to blob_garbage and is retried by the sweeper; it is never served.
 */
@Injectable()
export class ArtifactReaper {
  private readonly logger = new Logger(ArtifactReaper.name);

  constructor(
    private readonly garbage: BlobGarbageRepository,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
  ) {}

  /** Runs `deleteBatch` until it deletes nothing, removing each batch's blobs after it. */
  async drain(teamId: string, deleteBatch: DeleteBatch): Promise<RemovalResult> {
    const total = emptyRemoval();
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const rows = deletedRows(await deleteBatch());
      if (rows.length === 0) break;
      addRemoval(total, await this.deleteBlobs(teamId, rows));
    }
    return total;
  }

  /** Deletes the blobs of rows that were just deleted; never throws for a blob. */
  async deleteBlobs(teamId: string, rows: RemovedArtifact[]): Promise<RemovalResult> {
    const result: RemovalResult = {
      artifacts: rows.length,
      bytes: rows.reduce((sum, row) => sum + Number(row.size), 0),
      blobFailures: 0,
    };
    const queue = rows.map((row) => artifactBlobKey(teamId, row.hash, row.blob_version));
    const failed: string[] = [];
    const worker = async () => {
      for (let key = queue.shift(); key; key = queue.shift()) {
        try {
          await this.storage.delete(key);
        } catch (error) {
          failed.push(key);
          this.logger.warn(
            `could not delete blob ${key} (its row is gone, so it is never served; the sweeper retries): ${(error as Error).message}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: BLOB_DELETE_CONCURRENCY }, worker));
    result.blobFailures = failed.length;
    if (failed.length > 0) {
      // Best effort: what is not listed here is still found by the orphan sweep.
      await this.garbage.add(failed).catch(() => undefined);
    }
    return result;
  }
}
