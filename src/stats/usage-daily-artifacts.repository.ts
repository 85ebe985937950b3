import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';

/** A day contributes this many hashes to a top list, and keeps only them once trimmed. */
export const TOP_HASHES_PER_DAY = 100;

interface KeptRow {
  day: string;
  hash: string;
  hits: string;
  time_saved_ms: string;
}

/**
 * The upkeep of usage_daily_artifacts (UsageRollupJob adds the hits; the stats read the days'
 * tops): trimming a complete day to its top hashes, on the job's connection.
 */
@Injectable()
export class UsageDailyArtifactsRepository {
  /**
   * Keeps only the top TOP_HASHES_PER_DAY hashes (most hits, then time saved, then hash) of
   * every team's days after top_artifacts_trimmed_through up to `throughDay` (`YYYY-MM-DD`),
   * and of the `lateDays` that were trimmed already (events of theirs rolled up since), then
   * records `throughDay`. Returns the rows deleted.
   */
  async trim(runner: QueryRunner, throughDay: string, lateDays: string[]): Promise<number> {
    const [state] = await runner.query(
      `SELECT top_artifacts_trimmed_through::text AS day FROM usage_rollup_state WHERE id = 1`,
    );
    const trimmed: string | null = state.day;
    const late = trimmed === null ? [] : lateDays.filter((day) => day <= trimmed);
    if (late.length === 0 && trimmed !== null && trimmed >= throughDay) return 0;
    const teams: { id: string }[] = await runner.query('SELECT id FROM teams ORDER BY id');
    let deleted = 0;
    for (const team of teams) {
      deleted += await this.trimTeam(runner, team.id, [trimmed, throughDay], late);
    }
    if (trimmed === null || throughDay > trimmed) {
      await runner.query(
        'UPDATE usage_rollup_state SET top_artifacts_trimmed_through = $1 WHERE id = 1',
        [throughDay],
      );
    }
    return deleted;
  }

  /**
   * One team's days in (after, through] and `late` that hold more than the top: their rows are
   * deleted and the top ones written back, in one transaction. Rewritten rather than thinned,
   * so that a day's 100 rows sit together in the table and its index instead of one in thirty
   * pages, which made reading a year of tops touch 85,000 pages.
   */
  private async trimTeam(
    runner: QueryRunner,
    teamId: string,
    [after, through]: [string | null, string],
    late: string[],
  ): Promise<number> {
    await runner.startTransaction();
    try {
      const kept: KeptRow[] = await runner.query(
        `SELECT day::text AS day, hash, hits, time_saved_ms FROM (
           SELECT day, hash, hits, time_saved_ms, count(*) OVER (PARTITION BY day) AS n,
                  row_number() OVER (PARTITION BY day
                                     ORDER BY hits DESC, time_saved_ms DESC, hash) AS rank
             FROM usage_daily_artifacts
            WHERE team_id = $1
              AND ((($2::date IS NULL OR day > $2::date) AND day <= $3::date)
                   OR day = ANY($4::date[]))) AS ranked
          WHERE n > $5 AND rank <= $5`,
        [teamId, after, through, late, TOP_HASHES_PER_DAY],
      );
      let deleted = 0;
      if (kept.length > 0) {
        const days = [...new Set(kept.map((row) => row.day))];
        const [, count] = await runner.query(
          'DELETE FROM usage_daily_artifacts WHERE team_id = $1 AND day = ANY($2::date[])',
          [teamId, days],
        );
        await runner.query(
          `INSERT INTO usage_daily_artifacts (team_id, day, hash, hits, time_saved_ms)
           SELECT $1, k.day, k.hash, k.hits, k.saved
             FROM unnest($2::date[], $3::varchar[], $4::bigint[], $5::bigint[])
                  AS k(day, hash, hits, saved)
            ORDER BY k.day, k.hash`,
          [
            teamId,
            kept.map((row) => row.day),
            kept.map((row) => row.hash),
            kept.map((row) => row.hits),
            kept.map((row) => row.time_saved_ms),
          ],
        );
        deleted = Number(count) - kept.length;
      }
      await runner.commitTransaction();
      return deleted;
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }

  /** Most of a trimmed day's rows go at once: reclaimed now rather than scanned until autovacuum. */
  async vacuum(runner: QueryRunner): Promise<void> {
    await runner.query('VACUUM (ANALYZE) usage_daily_artifacts');
  }
}
