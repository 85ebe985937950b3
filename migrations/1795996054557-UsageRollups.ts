import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Statistics at scale (issue 18). Usage events are rolled up per team and UTC day by a periodic
 * job (UsageRollupJob), so the stats read a few rows per day instead of every event:
 * - `usage_rollup_state`: one row; `rolled_up_to` is the id below which (inclusive) every usage
 *   event is in the rollups, `events_kept_from` the time before which raw events may have been
 *   pruned, `top_artifacts_trimmed_through` the last day trimmed to its top 100 hashes.
 * - `usage_daily_counts`: hits, misses, time saved and sessions per team, day and client CI
 *   ('' = interactive).
 * - `usage_session_days`: each session's first and last event of a day (exact session counts
 *   across days; `prev_day` links a session's days).
 * - `usage_daily_artifacts`: remote hits and time saved per hash and day (top 100 per old day).
 * Stored artifacts are counted per upload day, client CI and tool in `artifact_day_totals`:
 * triggers on `artifacts` append every change to `artifact_day_deltas` (no counter row is
 * locked by an upload), which the same job folds into the totals. The totals start from the
 * artifacts stored now; the events are rolled up by the job from id 0 after the upgrade.
 * `IDX_artifacts_team_created` lets the stats read one day's uploads without a scan.
 */
export class UsageRollups1795996054557 implements MigrationInterface {
  name = 'UsageRollups1795996054557';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "usage_rollup_state" (
        "id" smallint NOT NULL,
        "rolled_up_to" bigint NOT NULL DEFAULT 0,
        "events_kept_from" timestamptz,
        "top_artifacts_trimmed_through" date,
        CONSTRAINT "PK_usage_rollup_state" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_usage_rollup_state_single" CHECK ("id" = 1)
      )`);
    await q.query('INSERT INTO "usage_rollup_state" ("id") VALUES (1)');
    await q.query(`
      CREATE TABLE "usage_daily_counts" (
        "team_id" varchar(64) NOT NULL,
        "day" date NOT NULL,
        "client_ci" varchar(50) NOT NULL,
        "remote_hits" bigint NOT NULL DEFAULT 0,
        "remote_misses" bigint NOT NULL DEFAULT 0,
        "local_hits" bigint NOT NULL DEFAULT 0,
        "local_misses" bigint NOT NULL DEFAULT 0,
        "time_saved_ms" bigint NOT NULL DEFAULT 0,
        "sessions" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "PK_usage_daily_counts" PRIMARY KEY ("team_id", "day", "client_ci"),
        CONSTRAINT "FK_usage_daily_counts_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE "usage_session_days" (
        "team_id" varchar(64) NOT NULL,
        "client_ci" varchar(50) NOT NULL,
        "session_id" uuid NOT NULL,
        "day" date NOT NULL,
        "first_at" timestamptz NOT NULL,
        "last_at" timestamptz NOT NULL,
        "prev_day" date,
        CONSTRAINT "PK_usage_session_days" PRIMARY KEY ("team_id", "client_ci", "session_id", "day"),
        CONSTRAINT "FK_usage_session_days_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX "IDX_usage_session_days_team_day" ON "usage_session_days" ("team_id", "day", "client_ci")',
    );
    await q.query(`
      CREATE INDEX "IDX_usage_session_days_repeats" ON "usage_session_days" ("team_id", "day")
        WHERE "prev_day" IS NOT NULL`);
    await q.query(`
      CREATE TABLE "usage_daily_artifacts" (
        "team_id" varchar(64) NOT NULL,
        "day" date NOT NULL,
        "hash" varchar(128) NOT NULL,
        "hits" bigint NOT NULL DEFAULT 0,
        "time_saved_ms" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "PK_usage_daily_artifacts" PRIMARY KEY ("team_id", "day", "hash"),
        CONSTRAINT "FK_usage_daily_artifacts_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    await this.artifactTotals(q);
    await q.query(
      'CREATE INDEX "IDX_artifacts_team_created" ON "artifacts" ("team_id", "created_at")',
    );
  }

  /** The tables, the triggers that feed them, then the totals of what is stored now. */
  private async artifactTotals(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "artifact_day_totals" (
        "team_id" varchar(64) NOT NULL,
        "day" date NOT NULL,
        "client_ci" varchar(50) NOT NULL,
        "tool" varchar(16) NOT NULL,
        "artifacts" bigint NOT NULL DEFAULT 0,
        "bytes" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "PK_artifact_day_totals" PRIMARY KEY ("team_id", "day", "client_ci", "tool"),
        CONSTRAINT "CHK_artifact_day_totals_tool" CHECK ("tool" IN ('turbo', 'nx')),
        CONSTRAINT "FK_artifact_day_totals_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    // No foreign key: a team's deletion writes the deltas of its artifacts just before its row
    // goes; the job drops deltas of teams that are gone.
    await q.query(`
      CREATE TABLE "artifact_day_deltas" (
        "id" bigserial NOT NULL,
        "team_id" varchar(64) NOT NULL,
        "day" date NOT NULL,
        "client_ci" varchar(50) NOT NULL,
        "tool" varchar(16) NOT NULL,
        "artifacts" bigint NOT NULL,
        "bytes" bigint NOT NULL,
        CONSTRAINT "PK_artifact_day_deltas" PRIMARY KEY ("id")
      )`);
    // The key of a row (day of upload, CI or '', tool as toolOfHashSql says) as SQL over `r`.
    const key = (r: string) =>
      `${r}.team_id, (${r}.created_at AT TIME ZONE 'UTC')::date, COALESCE(${r}.client_ci, ''),
       CASE WHEN ${r}.hash LIKE 'nx-%' THEN 'nx' ELSE 'turbo' END`;
    const columns = '(team_id, day, client_ci, tool, artifacts, bytes)';
    await q.query(`
      CREATE FUNCTION "artifact_day_deltas_of_statement"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO artifact_day_deltas ${columns}
          SELECT ${key('n')}, count(*), sum(n.size) FROM new_rows n GROUP BY 1, 2, 3, 4;
        ELSE
          INSERT INTO artifact_day_deltas ${columns}
          SELECT ${key('o')}, -count(*), -sum(o.size) FROM old_rows o GROUP BY 1, 2, 3, 4;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION "artifact_day_deltas_of_update"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO artifact_day_deltas ${columns}
        VALUES (${key('OLD')}, -1, -OLD.size), (${key('NEW')}, 1, NEW.size);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER "artifact_day_deltas_insert" AFTER INSERT ON "artifacts"
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION "artifact_day_deltas_of_statement"()`);
    await q.query(`
      CREATE TRIGGER "artifact_day_deltas_delete" AFTER DELETE ON "artifacts"
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION "artifact_day_deltas_of_statement"()`);
    // Per row and only for the counted columns: the access recorder's batched UPDATEs of
    // last_accessed_at and hit_count (the hot path) never fire it.
    await q.query(`
      CREATE TRIGGER "artifact_day_deltas_update"
        AFTER UPDATE OF "team_id", "hash", "size", "client_ci", "created_at" ON "artifacts"
        FOR EACH ROW
        WHEN ((OLD.team_id, OLD.hash, OLD.size, OLD.client_ci, OLD.created_at)
              IS DISTINCT FROM (NEW.team_id, NEW.hash, NEW.size, NEW.client_ci, NEW.created_at))
        EXECUTE FUNCTION "artifact_day_deltas_of_update"()`);
    // After the triggers: their lock on artifacts holds writers back until this commits, so
    // every artifact is counted once, here or by a delta.
    await q.query(`
      INSERT INTO "artifact_day_totals" ${columns}
      SELECT ${key('a')}, count(*), sum(a.size) FROM "artifacts" a GROUP BY 1, 2, 3, 4`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX "IDX_artifacts_team_created"');
    await q.query('DROP TRIGGER "artifact_day_deltas_update" ON "artifacts"');
    await q.query('DROP TRIGGER "artifact_day_deltas_delete" ON "artifacts"');
    await q.query('DROP TRIGGER "artifact_day_deltas_insert" ON "artifacts"');
    await q.query('DROP FUNCTION "artifact_day_deltas_of_update"()');
    await q.query('DROP FUNCTION "artifact_day_deltas_of_statement"()');
    await q.query('DROP TABLE "artifact_day_deltas"');
    await q.query('DROP TABLE "artifact_day_totals"');
    await q.query('DROP TABLE "usage_daily_artifacts"');
    await q.query('DROP TABLE "usage_session_days"');
    await q.query('DROP TABLE "usage_daily_counts"');
    await q.query('DROP TABLE "usage_rollup_state"');
  }
}
