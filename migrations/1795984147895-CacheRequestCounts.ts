import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Server-side request counts per team, tool and UTC day (issue 15): Nx reports no usage
 * events, so its hits, misses, uploads and refused uploads are counted by the server, in
 * memory, and added here in batches. A team's counts go with the team.
 */
export class CacheRequestCounts1795984147895 implements MigrationInterface {
  name = 'CacheRequestCounts1795984147895';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "cache_request_counts" (
        "team_id" varchar(64) NOT NULL,
        "tool" varchar(16) NOT NULL,
        "day" date NOT NULL,
        "hits" bigint NOT NULL DEFAULT 0,
        "misses" bigint NOT NULL DEFAULT 0,
        "uploads" bigint NOT NULL DEFAULT 0,
        "refused_uploads" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "CHK_cache_request_counts_tool" CHECK ("tool" IN ('turbo', 'nx')),
        CONSTRAINT "PK_cache_request_counts" PRIMARY KEY ("team_id", "tool", "day"),
        CONSTRAINT "FK_cache_request_counts_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE "cache_request_counts"');
  }
}
