import { MigrationInterface, QueryRunner } from 'typeorm';

/** Artifact metadata per (team, hash) and the usage events turbo reports. */
export class ArtifactsAndEvents1795670097497 implements MigrationInterface {
  name = 'ArtifactsAndEvents1795670097497';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "artifacts" (
        "team_id" varchar(64) NOT NULL,
        "hash" varchar(128) NOT NULL,
        "size" bigint NOT NULL,
        "duration_ms" integer NOT NULL DEFAULT 0,
        "tag" varchar(600),
        "sha" varchar(128),
        "dirty_hash" varchar(128),
        "client_ci" varchar(50),
        "client_interactive" boolean,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_accessed_at" timestamptz NOT NULL DEFAULT now(),
        "hit_count" integer NOT NULL DEFAULT 0,
        CONSTRAINT "PK_artifacts" PRIMARY KEY ("team_id", "hash"),
        CONSTRAINT "FK_artifacts_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    await q.query(`
      CREATE TABLE "usage_events" (
        "id" bigserial NOT NULL,
        "team_id" varchar(64) NOT NULL,
        "session_id" uuid NOT NULL,
        "source" varchar(6) NOT NULL,
        "event" varchar(4) NOT NULL,
        "hash" varchar(128) NOT NULL,
        "duration_ms" integer NOT NULL DEFAULT 0,
        "client_ci" varchar(50),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_usage_events" PRIMARY KEY ("id"),
        CONSTRAINT "FK_usage_events_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
    await q.query(
      'CREATE INDEX "idx_usage_events_team_time" ON "usage_events" ("team_id", "created_at")',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE "usage_events"');
    await q.query('DROP TABLE "artifacts"');
  }
}
