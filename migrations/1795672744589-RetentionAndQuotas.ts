import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-team retention and quota overrides (null: the server default), and the index that serves
 * the sweeper (expiry and LRU order per team) and a team's stored bytes (index-only SUM).
 */
export class RetentionAndQuotas1795672744589 implements MigrationInterface {
  name = 'RetentionAndQuotas1795672744589';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "teams"
        ADD COLUMN "retention_days" integer,
        ADD COLUMN "quota_bytes" bigint,
        ADD CONSTRAINT "CHK_teams_retention_days" CHECK ("retention_days" BETWEEN 1 AND 36500),
        ADD CONSTRAINT "CHK_teams_quota_bytes" CHECK ("quota_bytes" >= 0)`);
    await q.query(
      'CREATE INDEX "IDX_artifacts_team_last_access" ON "artifacts" ("team_id", "last_accessed_at") INCLUDE ("size")',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX "IDX_artifacts_team_last_access"');
    await q.query(`
      ALTER TABLE "teams"
        DROP CONSTRAINT "CHK_teams_quota_bytes",
        DROP CONSTRAINT "CHK_teams_retention_days",
        DROP COLUMN "quota_bytes",
        DROP COLUMN "retention_days"`);
  }
}
