import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CacheTool } from '../storage/blob-keys';

/** What the server counted of a tool's requests (each a count of requests). */
export interface RequestCounts {
  /** GETs answered 200. */
  hits: number;
  /** GETs answered 404. */
  misses: number;
  /** PUTs stored. */
  uploads: number;
  /** PUTs refused (4xx) once the team was known. */
  refusedUploads: number;
}

/** Counts of one team on one UTC day (`day`: `YYYY-MM-DD`). */
export interface DailyRequestCounts extends RequestCounts {
  teamId: string;
  day: string;
}

export const NO_REQUESTS: Readonly<RequestCounts> = Object.freeze({
  hits: 0,
  misses: 0,
  uploads: 0,
  refusedUploads: 0,
});

/**
 * The queries of `cache_request_counts`: requests the server counted itself, per team, tool and
 * UTC day (NxUsageRecorder writes, StatsService reads).
 */
@Injectable()
export class CacheRequestCountsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Adds `rows` to the stored counts of `tool` in one statement (a row per team and day is
   * created on first use). Rows may repeat a (team, day): they are summed. Rows of a team that
   * no longer exists are skipped (its counts went with it), so a deleted team never fails the
   * batch. Rows are written in key order, so two replicas' batches cannot deadlock.
   * Rejects on a database error, having written nothing.
   */
  async addCounts(tool: CacheTool, rows: DailyRequestCounts[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <K extends keyof DailyRequestCounts>(key: K) => rows.map((row) => row[key]);
    await this.dataSource.query(
      `INSERT INTO cache_request_counts AS c
              (team_id, tool, day, hits, misses, uploads, refused_uploads)
       SELECT r.team_id, $1, r.day, sum(r.hits), sum(r.misses), sum(r.uploads), sum(r.refused)
         FROM unnest($2::varchar[], $3::date[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
              AS r(team_id, day, hits, misses, uploads, refused)
         JOIN teams t ON t.id = r.team_id
        GROUP BY r.team_id, r.day
        ORDER BY r.team_id, r.day
       ON CONFLICT (team_id, tool, day) DO UPDATE SET
         hits = c.hits + EXCLUDED.hits,
         misses = c.misses + EXCLUDED.misses,
         uploads = c.uploads + EXCLUDED.uploads,
         refused_uploads = c.refused_uploads + EXCLUDED.refused_uploads`,
      [
        tool,
        column('teamId'),
        column('day'),
        column('hits'),
        column('misses'),
        column('uploads'),
        column('refusedUploads'),
      ],
    );
  }

  /**
   * A team's counts per tool over the UTC days `firstDay` to `lastDay` (`YYYY-MM-DD`, both
   * included); a tool without any request in those days is absent.
   */
  async totalsByTool(
    teamId: string,
    firstDay: string,
    lastDay: string,
  ): Promise<Partial<Record<CacheTool, RequestCounts>>> {
    const rows: Record<string, string>[] = await this.dataSource.query(
      `SELECT tool, sum(hits) AS hits, sum(misses) AS misses, sum(uploads) AS uploads,
              sum(refused_uploads) AS refused_uploads
         FROM cache_request_counts
        WHERE team_id = $1 AND day BETWEEN $2::date AND $3::date
        GROUP BY tool`,
      [teamId, firstDay, lastDay],
    );
    const totals: Partial<Record<CacheTool, RequestCounts>> = {};
    for (const row of rows) {
      totals[row.tool as CacheTool] = {
        hits: Number(row.hits),
        misses: Number(row.misses),
        uploads: Number(row.uploads),
        refusedUploads: Number(row.refused_uploads),
      };
    }
    return totals;
  }
}
