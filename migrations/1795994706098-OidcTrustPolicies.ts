import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * CI identity (issue 17): per-team trust policies that exchange a CI job's OIDC token for a
 * short-lived cache token; the `jti` of every exchanged CI token until it expires (a token is
 * exchanged once); and, on tokens made by an exchange, the policy and the job they were for.
 * A team's policies go with the team; a deleted policy leaves its tokens (NULL policy).
 */
export class OidcTrustPolicies1795994706098 implements MigrationInterface {
  name = 'OidcTrustPolicies1795994706098';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "oidc_policies" (
        "id" uuid NOT NULL,
        "team_id" varchar(64) NOT NULL,
        "name" varchar(64) NOT NULL,
        "issuer" varchar(300) NOT NULL,
        "audience" varchar(200) NOT NULL,
        "conditions" jsonb NOT NULL,
        "access" varchar(16) NOT NULL,
        "tier" varchar(16) NOT NULL,
        "scope_template" varchar(200),
        "ttl_seconds" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_oidc_policies" PRIMARY KEY ("id"),
        CONSTRAINT "FK_oidc_policies_team_id" FOREIGN KEY ("team_id") REFERENCES "teams"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_oidc_policies_access" CHECK ("access" IN ('read-write', 'read-only')),
        CONSTRAINT "CHK_oidc_policies_tier" CHECK ("tier" IN ('trusted', 'untrusted')),
        CONSTRAINT "CHK_oidc_policies_ttl_seconds" CHECK ("ttl_seconds" BETWEEN 60 AND 21600)
      )`);
    await q.query(
      'CREATE UNIQUE INDEX "IDX_oidc_policies_team_name" ON "oidc_policies" ("team_id", "name")',
    );
    await q.query(`
      CREATE TABLE "oidc_used_jtis" (
        "issuer" varchar(300) NOT NULL,
        "jti" varchar(256) NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "PK_oidc_used_jtis" PRIMARY KEY ("issuer", "jti")
      )`);
    await q.query(
      'CREATE INDEX "IDX_oidc_used_jtis_expires_at" ON "oidc_used_jtis" ("expires_at")',
    );
    await q.query(`
      ALTER TABLE "tokens"
        ADD COLUMN "oidc_policy_id" uuid,
        ADD COLUMN "oidc_job" jsonb,
        ADD CONSTRAINT "FK_tokens_oidc_policy_id" FOREIGN KEY ("oidc_policy_id") REFERENCES "oidc_policies"("id") ON DELETE SET NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "tokens" DROP CONSTRAINT "FK_tokens_oidc_policy_id",
        DROP COLUMN "oidc_job", DROP COLUMN "oidc_policy_id"`);
    await q.query('DROP TABLE "oidc_used_jtis"');
    await q.query('DROP TABLE "oidc_policies"');
  }
}
