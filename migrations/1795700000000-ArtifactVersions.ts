import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One commit point per upload (issue 12): each upload writes its body under a key of its own
 * (`<teamId>/<hash>.<blob_version>`) and the row, written last, names that version; the row's
 * sha256 of the body lets `artifacts verify` find bodies that changed in storage. Rows from
 * before keep blob_version NULL and are read from the old key `<teamId>/<hash>`.
 * blob_garbage lists bodies no row names any more (replaced by a later upload, or whose delete
 * failed): the sweeper deletes them once they are older than the grace period.
 */
export class ArtifactVersions1795700000000 implements MigrationInterface {
  name = 'ArtifactVersions1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "artifacts"
        ADD COLUMN "blob_version" varchar(24),
        ADD COLUMN "content_sha256" character(64)`);
    await q.query(`
      CREATE TABLE "blob_garbage" (
        "blob_key" varchar(300) NOT NULL,
        "since" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_blob_garbage" PRIMARY KEY ("blob_key")
      )`);
    await q.query('CREATE INDEX "IDX_blob_garbage_since" ON "blob_garbage" ("since")');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE "blob_garbage"');
    await q.query(`
      ALTER TABLE "artifacts" DROP COLUMN "content_sha256", DROP COLUMN "blob_version"`);
  }
}
