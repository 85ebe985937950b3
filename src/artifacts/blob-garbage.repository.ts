import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SqlExecutor } from './artifacts.repository';

/**
 * The queries of `blob_garbage`: stored bodies no row names any more (replaced by a later
 * upload, or whose delete failed), each with when it got there. The artifact commit adds, the
 * reaper adds what it could not delete, and BlobCollector deletes what is older than the grace.
 */
@Injectable()
export class BlobGarbageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Which of `keys` are listed in blob_garbage (their collection is already scheduled). */
  async scheduledAmong(keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows: { blob_key: string }[] = await this.dataSource.query(
      'SELECT blob_key FROM blob_garbage WHERE blob_key = ANY($1::varchar[])',
      [keys],
    );
    return new Set(rows.map((row) => row.blob_key));
  }

  /** Schedules bodies for deletion after the grace period (a key listed twice keeps its first time). */
  add(keys: string[], sql: SqlExecutor = this.dataSource): Promise<unknown> {
    return sql.query(
      'INSERT INTO blob_garbage (blob_key) SELECT unnest($1::varchar[]) ON CONFLICT DO NOTHING',
      [keys],
    );
  }

  /** Up to `limit` garbage keys scheduled more than `graceMs` ago. */
  async due(graceMs: number, limit: number): Promise<string[]> {
    const rows: { blob_key: string }[] = await this.dataSource.query(
      `SELECT blob_key FROM blob_garbage
        WHERE since < now() - make_interval(secs => $1::double precision / 1000)
        ORDER BY since LIMIT $2`,
      [graceMs, limit],
    );
    return rows.map((row) => row.blob_key);
  }

  /** Forgets garbage keys whose bodies are deleted. */
  async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.dataSource.query('DELETE FROM blob_garbage WHERE blob_key = ANY($1::varchar[])', [
      keys,
    ]);
  }
}
