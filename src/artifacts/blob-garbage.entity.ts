import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A stored body that no artifact row names any more: replaced by a later upload of the same
 * hash, or left behind by a delete that failed. The sweeper deletes it once `since` is older
 * than the grace period, so a reader that picked its key just before the replacement still
 * finds it.
 */
@Entity({ name: 'blob_garbage' })
export class BlobGarbage {
  @PrimaryColumn({
    name: 'blob_key',
    type: 'varchar',
    length: 300,
    primaryKeyConstraintName: 'PK_blob_garbage',
  })
  blobKey: string;

  @Index('IDX_blob_garbage_since')
  @Column({ type: 'timestamptz', default: () => 'now()' })
  since: Date;
}
