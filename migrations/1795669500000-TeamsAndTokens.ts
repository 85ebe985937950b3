import { MigrationInterface, QueryRunner } from 'typeorm';

/** Teams (the tenants) and the records of their cache tokens; no signing secret is stored. */
export class TeamsAndTokens1795669500000 implements MigrationInterface {
  name = 'TeamsAndTokens1795669500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "teams" (
        "id" varchar(64) NOT NULL,
        "slug" varchar(48) NOT NULL,
        "name" varchar(100) NOT NULL,
        "status" varchar(16) NOT NULL DEFAULT 'enabled',
        "key_version" integer NOT NULL DEFAULT 1,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_teams" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_teams_status" CHECK ("status" IN ('enabled', 'paused')),
        CONSTRAINT "CHK_teams_slug" CHECK ("slug" ~ '^[a-z0-9-]{1,48}$')
      )`);
    await q.query('CREATE UNIQUE INDEX "IDX_teams_slug" ON "teams" ("slug")');
    await q.query(`
      CREATE TABLE "tokens" (
        "id" uuid NOT NULL,
        "team_id" varchar(64) NOT NULL,
        "name" varchar(100),
        "scope" varchar(16) NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz,
        "last_used_at" timestamptz,
        "revoked_at" timestamptz,
        CONSTRAINT "PK_tokens" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_tokens_scope" CHECK ("scope" IN ('read-write', 'read-only')),
        CONSTRAINT "FK_tokens_team_id" FOREIGN KEY ("team_id")
          REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    await q.query('CREATE INDEX "IDX_tokens_team_id" ON "tokens" ("team_id")');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE "tokens"');
    await q.query('DROP TABLE "teams"');
  }
}
