import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trust tiers (issue 16, cache poisoning protection). Every token is `trusted` (every token so
 * far: nothing changes for them) or `untrusted` with an overlay scope. An artifact row now
 * belongs to a namespace: `overlay_scope` '' is the team's trusted namespace (every row so far),
 * anything else the overlay of that scope, so one hash may have a trusted row and one row per
 * overlay. Each row records its writer (token id and name; rows from before keep NULL). Teams
 * get an overlay retention override and the `immutable` trusted-entries mode.
 */
export class TrustTiers1795992826258 implements MigrationInterface {
  name = 'TrustTiers1795992826258';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "tokens"
        ADD COLUMN "tier" varchar(16) NOT NULL DEFAULT 'trusted',
        ADD COLUMN "overlay_scope" varchar(64),
        ADD CONSTRAINT "CHK_tokens_tier" CHECK ("tier" IN ('trusted', 'untrusted')),
        ADD CONSTRAINT "CHK_tokens_overlay_scope" CHECK (("tier" = 'trusted') = ("overlay_scope" IS NULL))`);
    await q.query(`
      ALTER TABLE "artifacts"
        ADD COLUMN "overlay_scope" varchar(64) NOT NULL DEFAULT '',
        ADD COLUMN "writer_token_id" uuid,
        ADD COLUMN "writer_token_name" varchar(100)`);
    await q.query(`
      ALTER TABLE "artifacts"
        DROP CONSTRAINT "PK_artifacts",
        ADD CONSTRAINT "PK_artifacts" PRIMARY KEY ("team_id", "hash", "overlay_scope")`);
    await q.query(`
      CREATE INDEX "IDX_artifacts_team_writer" ON "artifacts" ("team_id", "writer_token_id")
        WHERE "writer_token_id" IS NOT NULL`);
    await q.query(`
      CREATE INDEX "IDX_artifacts_team_overlay" ON "artifacts" ("team_id", "overlay_scope")
        WHERE "overlay_scope" <> ''`);
    await q.query(`
      ALTER TABLE "teams"
        ADD COLUMN "overlay_retention_days" integer,
        ADD COLUMN "trusted_entries" varchar(16) NOT NULL DEFAULT 'replaceable',
        ADD CONSTRAINT "CHK_teams_overlay_retention_days" CHECK ("overlay_retention_days" BETWEEN 1 AND 36500),
        ADD CONSTRAINT "CHK_teams_trusted_entries" CHECK ("trusted_entries" IN ('replaceable', 'immutable'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "teams"
        DROP COLUMN "trusted_entries", DROP COLUMN "overlay_retention_days"`);
    // Overlay rows cannot survive the old key; their bodies are left to the orphan sweep.
    await q.query(`DELETE FROM "artifacts" WHERE "overlay_scope" <> ''`);
    await q.query('DROP INDEX "IDX_artifacts_team_overlay"');
    await q.query('DROP INDEX "IDX_artifacts_team_writer"');
    await q.query(`
      ALTER TABLE "artifacts"
        DROP CONSTRAINT "PK_artifacts",
        ADD CONSTRAINT "PK_artifacts" PRIMARY KEY ("team_id", "hash")`);
    await q.query(`
      ALTER TABLE "artifacts"
        DROP COLUMN "writer_token_name", DROP COLUMN "writer_token_id", DROP COLUMN "overlay_scope"`);
    await q.query(`
      ALTER TABLE "tokens"
        DROP CONSTRAINT "CHK_tokens_overlay_scope", DROP CONSTRAINT "CHK_tokens_tier",
        DROP COLUMN "overlay_scope", DROP COLUMN "tier"`);
  }
}
