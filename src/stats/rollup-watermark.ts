/**
 * A reading of the usage_events id sequence: `id` is the last id handed out at or before `at`
 * (the database clock, read after the sequence).
 */
export interface SequenceMark {
  id: number;
  at: Date;
}

/** Marks older than this are dropped even when no safe one came after them. */
const MAX_MARKS = 1_000;

/**
 * The snapshot-safe watermark of the rollup job. Ids are handed out at INSERT but become
 * visible at COMMIT, so a transaction that took id 100 may commit after one that took id 101:
 * rolling up to "the highest id visible" could skip id 100 for ever. Instead the job reads the
 * sequence now and then (a mark), and rolls up to a mark only once every transaction that may
 * hold an id at or below it has ended: that is, once the oldest transaction still running
 * (that has written, or is running a statement) started after the mark was taken. Any
 * transaction that started later takes its ids after the mark, so above it.
 * (PostgreSQL: `pg_stat_activity.xact_start` and `backend_xid`; the sequence must not cache.)
 */
export class RollupWatermark {
  private marks: SequenceMark[] = [];

  /** Remembers a sequence reading (taken before the matching oldestRunning is read). */
  mark(mark: SequenceMark): void {
    const last = this.marks[this.marks.length - 1];
    if (last && mark.id <= last.id) {
      // Nothing new was handed out: the older reading covers the same ids, earlier.
      return;
    }
    this.marks.push(mark);
    if (this.marks.length > MAX_MARKS) this.marks.shift();
  }

  /**
   * The highest mark that is safe given the start of the oldest transaction still running
   * (null: none is running), or null when none is; drops that mark and the ones before it.
   */
  takeSafe(oldestRunning: Date | null): number | null {
    let safe: SequenceMark | undefined;
    while (this.marks.length > 0) {
      const [next] = this.marks;
      if (oldestRunning !== null && next.at.getTime() >= oldestRunning.getTime()) break;
      safe = this.marks.shift();
    }
    return safe ? safe.id : null;
  }
}
