import { Injectable } from '@nestjs/common';
import type { QueryRunner } from 'typeorm';
import type { SequenceMark } from './rollup-watermark';

const REMOTE_HIT = `source = 'REMOTE' AND event = 'HIT'`;
const UTC_DAY = `(created_at AT TIME ZONE 'UTC')::date`;
/** The events of one chunk: `$1` < id <= `$2`. */
const CHUNK = 'id > $1 AND id <= $2';

/** Thrown when rolled_up_to is not where this job left it: another process moved it. */
export class RollupMovedError extends Error {}

/**
 * The writes of UsageRollupJob, each on the job's own connection (which holds its advisory
 * lock): reading the id sequence and the oldest running writer, rolling a range of usage
 * events into the day tables, folding artifact deltas.
 */
@Injectable()
export class UsageRollupsRepository {
  /**
   * The last id handed out by the usage_events sequence, then the database clock: a mark for
   * RollupWatermark. Rejects when the sequence caches ids per session (marks would not hold).
   */
  async readSequence(runner: QueryRunner): Promise<SequenceMark> {
    const [seq] = await runner.query(
      `SELECT s.last_value, s.is_called, p.cache_size
         FROM usage_events_id_seq s, pg_sequences p
        WHERE p.schemaname = current_schema() AND p.sequencename = 'usage_events_id_seq'`,
    );
    if (Number(seq.cache_size) !== 1) {
      throw new Error('usage_events_id_seq caches ids (CACHE > 1): rollups need CACHE 1');
    }
    // Read after the sequence, by its own statement: every id up to it was handed out before.
    const [clock] = await runner.query('SELECT clock_timestamp() AS at');
    const id = Number(seq.last_value) - (seq.is_called ? 0 : 1);
    return { id, at: new Date(clock.at) };
  }

  /**
   * When the oldest transaction that may still insert usage events began: of the other
   * sessions on this database, those whose transaction has written (xact_start) or that run a
   * statement (query_start), and prepared transactions. Null: none. Sessions of other roles
   * that this role may not inspect are not seen (teamcache inserts events as itself).
   */
  async oldestRunningWriter(runner: QueryRunner): Promise<Date | null> {
    const [row] = await runner.query(
      `SELECT min(started) AS oldest FROM (
         SELECT CASE WHEN backend_xid IS NOT NULL THEN xact_start
                     WHEN state IN ('active', 'fastpath function call') THEN query_start END
                AS started
           FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()
         UNION ALL
         SELECT prepared FROM pg_prepared_xacts WHERE database = current_database()
       ) AS running`,
    );
    return row.oldest ? new Date(row.oldest) : null;
  }

  /** rolled_up_to (usage_rollup_state). */
  async rolledUpTo(runner: QueryRunner): Promise<number> {
    const [row] = await runner.query('SELECT rolled_up_to FROM usage_rollup_state WHERE id = 1');
    return Number(row.rolled_up_to);
  }

  /**
   * Rolls the usage events with `from` < id <= `to` into the day tables and moves
   * rolled_up_to from `from` to `to`, in one transaction: a reader sees the events either in
   * the rollups or above rolled_up_to, never both. Every event in the range must be committed
   * (RollupWatermark). Rejects with RollupMovedError, having written nothing, if rolled_up_to
   * is not `from`. Returns the number of events rolled up and the UTC days they fell on.
   */
  async rollUp(
    runner: QueryRunner,
    from: number,
    to: number,
  ): Promise<{ events: number; days: string[] }> {
    await runner.startTransaction();
    try {
      const [, moved] = await runner.query(
        'UPDATE usage_rollup_state SET rolled_up_to = $2 WHERE id = 1 AND rolled_up_to = $1',
        [from, to],
      );
      if (moved !== 1) throw new RollupMovedError(`rolled_up_to is no longer ${from}`);
      const events = await this.countEvents(runner, from, to);
      let days: string[] = [];
      if (events > 0) {
        days = await this.addCounts(runner, from, to);
        await this.addSessions(runner, from, to);
        await this.addHashes(runner, from, to);
      }
      await runner.commitTransaction();
      return { events, days };
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }

  /** Counts per team, day and client CI; returns the days written. */
  private async addCounts(runner: QueryRunner, from: number, to: number): Promise<string[]> {
    const rows: { day: string }[] = await runner.query(
      `INSERT INTO usage_daily_counts AS c (team_id, day, client_ci, remote_hits, remote_misses,
                                            local_hits, local_misses, time_saved_ms)
       SELECT team_id, ${UTC_DAY}, COALESCE(client_ci, ''),
              count(*) FILTER (WHERE ${REMOTE_HIT}),
              count(*) FILTER (WHERE source = 'REMOTE' AND event = 'MISS'),
              count(*) FILTER (WHERE source = 'LOCAL' AND event = 'HIT'),
              count(*) FILTER (WHERE source = 'LOCAL' AND event = 'MISS'),
              COALESCE(sum(duration_ms) FILTER (WHERE ${REMOTE_HIT}), 0)
         FROM usage_events WHERE ${CHUNK}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
       ON CONFLICT (team_id, day, client_ci) DO UPDATE SET
         remote_hits = c.remote_hits + EXCLUDED.remote_hits,
         remote_misses = c.remote_misses + EXCLUDED.remote_misses,
         local_hits = c.local_hits + EXCLUDED.local_hits,
         local_misses = c.local_misses + EXCLUDED.local_misses,
         time_saved_ms = c.time_saved_ms + EXCLUDED.time_saved_ms
       RETURNING day::text AS day`,
      [from, to],
    );
    return [...new Set(rows.map((row) => row.day))];
  }

  private async countEvents(runner: QueryRunner, from: number, to: number): Promise<number> {
    const [row] = await runner.query(`SELECT count(*) AS n FROM usage_events WHERE ${CHUNK}`, [
      from,
      to,
    ]);
    return Number(row.n);
  }

  /**
   * The chunk's sessions per day (first and last event), then, for those sessions, each row's
   * previous day, then the session count of each day the chunk touched.
   */
  private async addSessions(runner: QueryRunner, from: number, to: number): Promise<void> {
    await runner.query(
      `INSERT INTO usage_session_days AS s (team_id, client_ci, session_id, day, first_at, last_at)
       SELECT team_id, COALESCE(client_ci, ''), session_id, ${UTC_DAY}, min(created_at), max(created_at)
         FROM usage_events WHERE ${CHUNK}
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
       ON CONFLICT (team_id, client_ci, session_id, day) DO UPDATE SET
         first_at = LEAST(s.first_at, EXCLUDED.first_at),
         last_at = GREATEST(s.last_at, EXCLUDED.last_at)`,
      [from, to],
    );
    await runner.query(
      `UPDATE usage_session_days s SET prev_day = linked.prev_day
         FROM (SELECT d.team_id, d.client_ci, d.session_id, d.day,
                      lag(d.day) OVER (PARTITION BY d.team_id, d.client_ci, d.session_id
                                       ORDER BY d.day) AS prev_day
                 FROM usage_session_days d
                WHERE (d.team_id, d.client_ci, d.session_id) IN (
                        SELECT DISTINCT team_id, COALESCE(client_ci, ''), session_id
                          FROM usage_events WHERE ${CHUNK})) AS linked
        WHERE s.team_id = linked.team_id AND s.client_ci = linked.client_ci
          AND s.session_id = linked.session_id AND s.day = linked.day
          AND s.prev_day IS DISTINCT FROM linked.prev_day`,
      [from, to],
    );
    await runner.query(
      `UPDATE usage_daily_counts c
          SET sessions = (SELECT count(*) FROM usage_session_days s
                           WHERE s.team_id = c.team_id AND s.day = c.day AND s.client_ci = c.client_ci)
        WHERE (c.team_id, c.day, c.client_ci) IN (
                SELECT DISTINCT team_id, ${UTC_DAY}, COALESCE(client_ci, '')
                  FROM usage_events WHERE ${CHUNK})`,
      [from, to],
    );
  }

  /** Remote hits and time saved per team, day and hash. */
  private async addHashes(runner: QueryRunner, from: number, to: number): Promise<void> {
    await runner.query(
      `INSERT INTO usage_daily_artifacts AS a (team_id, day, hash, hits, time_saved_ms)
       SELECT team_id, ${UTC_DAY}, hash, count(*), COALESCE(sum(duration_ms), 0)
         FROM usage_events WHERE ${CHUNK} AND ${REMOTE_HIT}
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
       ON CONFLICT (team_id, day, hash) DO UPDATE SET
         hits = a.hits + EXCLUDED.hits,
         time_saved_ms = a.time_saved_ms + EXCLUDED.time_saved_ms`,
      [from, to],
    );
  }

  /**
   * Moves the artifact deltas committed so far into artifact_day_totals, in one transaction
   * (a reader sums both, so it sees each change once). Deltas of deleted teams are dropped;
   * totals that reach zero are removed. Returns the deltas folded.
   */
  async foldArtifactDeltas(runner: QueryRunner): Promise<number> {
    await runner.startTransaction();
    try {
      const [folded] = await runner.query(
        `WITH moved AS (DELETE FROM artifact_day_deltas
                        RETURNING team_id, day, client_ci, tool, artifacts, bytes),
              upserted AS (
                INSERT INTO artifact_day_totals AS t (team_id, day, client_ci, tool, artifacts, bytes)
                SELECT m.team_id, m.day, m.client_ci, m.tool, sum(m.artifacts), sum(m.bytes)
                  FROM moved m JOIN teams ON teams.id = m.team_id
                 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                ON CONFLICT (team_id, day, client_ci, tool) DO UPDATE SET
                  artifacts = t.artifacts + EXCLUDED.artifacts, bytes = t.bytes + EXCLUDED.bytes
                RETURNING team_id, day, client_ci, tool, artifacts, bytes)
         SELECT (SELECT count(*) FROM moved) AS n,
                (SELECT json_agg(json_build_array(team_id, day, client_ci, tool)) FROM upserted
                  WHERE artifacts = 0 AND bytes = 0) AS emptied`,
      );
      const emptied = (folded.emptied ?? []) as [string, string, string, string][];
      if (emptied.length > 0) {
        const column = (i: number) => emptied.map((key) => key[i]);
        await runner.query(
          `DELETE FROM artifact_day_totals
            WHERE (team_id, day, client_ci, tool) IN (
                    SELECT * FROM unnest($1::varchar[], $2::date[], $3::varchar[], $4::varchar[]))
              AND artifacts = 0 AND bytes = 0`,
          [column(0), column(1), column(2), column(3)],
        );
      }
      await runner.commitTransaction();
      return Number(folded.n);
    } catch (error) {
      await runner.rollbackTransaction();
      throw error;
    }
  }
}
