import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { blobKey } from '../artifacts/artifacts.service';
import { BLOB_STORAGE, BlobStorage } from '../storage/blob-storage';

/** A metadata row already deleted (DELETE ... RETURNING hash, size). */
export interface RemovedArtifact {
  hash: string;
  size: number | string;
}

export interface RemovalResult {
  artifacts: number;
  bytes: number;
  /** Blobs whose delete failed: logged and left behind (invisible without their rows). */
  blobFailures: number;
}

/** Runs one DELETE ... RETURNING hash, size of at most REMOVAL_BATCH rows (a raw query result). */
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
 * artifact visible), then its blob. A blob left behind by a failed delete is never served.
 */
@Injectable()
export class ArtifactReaper {
  private readonly logger = new Logger(ArtifactReaper.name);

  constructor(
    private readonly dataSource: DataSource,
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
    const reuploaded = await this.stillStored(teamId, rows);
    const queue = rows.filter((row) => !reuploaded.has(row.hash));
    const worker = async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        try {
          await this.storage.delete(blobKey(teamId, row.hash));
        } catch (error) {
          result.blobFailures += 1;
          this.logger.warn(
            `could not delete blob ${blobKey(teamId, row.hash)} (its metadata is gone, so it is never served): ${(error as Error).message}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: BLOB_DELETE_CONCURRENCY }, worker));
    return result;
  }

  /**
   * Hashes uploaded again since their row was deleted: the blob under that key is the new
   * upload's now, so it stays. (A query failure keeps every blob: an orphan is harmless.)
   */
  private async stillStored(teamId: string, rows: RemovedArtifact[]): Promise<Set<string>> {
    try {
      const found: { hash: string }[] = await this.dataSource.query(
        'SELECT hash FROM artifacts WHERE team_id = $1 AND hash = ANY($2::varchar[])',
        [teamId, rows.map((row) => row.hash)],
      );
      return new Set(found.map((row) => row.hash));
    } catch (error) {
      this.logger.warn(
        `could not check for re-uploads, keeping blobs: ${(error as Error).message}`,
      );
      return new Set(rows.map((row) => row.hash));
    }
  }
}
