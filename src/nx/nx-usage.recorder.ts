import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import {
  CacheRequestCountsRepository,
  type DailyRequestCounts,
  type RequestCounts,
} from '../stats/cache-request-counts.repository';
import type { NxMethod } from './nx-answers';

/** How often the counts are written: stats lag the requests by at most this much. */
export const NX_USAGE_FLUSH_INTERVAL_MS = 5_000;
/**
 * The most (team, day) rows kept in memory while the database refuses the writes: past it,
 * counts are dropped (and logged), so an outage costs bounded memory. A row is a few numbers;
 * in normal operation there is one per active team.
 */
export const MAX_PENDING_ROWS = 10_000;

/** What one answered Nx request counts as. */
export type NxOutcome = keyof RequestCounts;

/**
 * What the Nx client heard, as a count: GET 200 a hit, GET 404 a miss (a missing entry, or a
 * lookup answered as a miss, e.g. under NX_ON_OUTAGE=miss), PUT 200 an upload, PUT 4xx a
 * refused upload (403 read-only token or a skip, 409 existing entry, 413 too large, 400/411
 * bad headers). Anything else (5xx) is no answer Nx can use and counts as nothing.
 */
export function nxOutcomeOf(method: NxMethod, status: number): NxOutcome | null {
  if (method === 'GET') {
    if (status === 200) return 'hits';
    return status === 404 ? 'misses' : null;
  }
  if (status === 200) return 'uploads';
  return status >= 400 && status < 500 ? 'refusedUploads' : null;
}

/** The UTC day (`YYYY-MM-DD`) of `at`. */
const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Counts Nx's hits, misses, uploads and refused uploads per team, server-side (Nx reports no
 * usage events): in memory per (team, UTC day), added to cache_request_counts in one statement
 * every NX_USAGE_FLUSH_INTERVAL_MS and at shutdown, so a request never waits for (or fails on)
 * the write. A failed write keeps its counts for the next attempt, up to MAX_PENDING_ROWS rows;
 * a write that failed after the database committed it is counted twice (counts are advisory).
 * Only requests whose team is known are counted: a request refused before its token was
 * verified (401, a bad hash, a blocked client) or whose team's refusal comes from
 * authentication itself (a paused team) cannot be attributed to a team.
 */
@Injectable()
export class NxUsageRecorder implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(NxUsageRecorder.name);
  private pending = new Map<string, DailyRequestCounts>();
  private dropped = 0;
  private writing?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(private readonly counts: CacheRequestCountsRepository) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), NX_USAGE_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Counts one answered request of `teamId` (nxOutcomeOf; a 5xx counts as nothing). */
  recordAnswer(teamId: string, method: NxMethod, status: number, at: Date = new Date()): void {
    const outcome = nxOutcomeOf(method, status);
    if (outcome) this.record(teamId, outcome, at);
  }

  /** Adds one request to the (team, UTC day of `at`) row; never throws, never waits. */
  record(teamId: string, outcome: NxOutcome, at: Date = new Date()): void {
    const day = utcDay(at);
    const row = this.rowOf(this.pending, teamId, day);
    if (row) row[outcome] += 1;
    else this.dropped += 1;
  }

  /** Rows and requests waiting for the next write (for tests and diagnostics). */
  get backlog(): { rows: number; requests: number } {
    let requests = 0;
    for (const row of this.pending.values()) requests += total(row);
    return { rows: this.pending.size, requests };
  }

  /**
   * Writes what was counted so far, after any write under way (one at a time, so the shutdown
   * flush waits for the timer's). Never rejects: a failed write is logged and its counts go
   * back into the next batch.
   */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.reportDropped();
    if (this.pending.size === 0) return;
    this.writing = this.write().finally(() => (this.writing = undefined));
    await this.writing;
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.counts.addCounts('nx', [...batch.values()]);
    } catch (error) {
      this.keepForRetry(batch);
      this.logger.warn(
        `could not record ${batch.size} rows of Nx request counts (kept for the next attempt): ${(error as Error).message}`,
      );
    }
  }

  /** Puts a failed batch back in front of what was counted meanwhile, within the cap. */
  private keepForRetry(batch: Map<string, DailyRequestCounts>): void {
    const meanwhile = this.pending;
    this.pending = new Map();
    for (const source of [batch, meanwhile]) {
      for (const counted of source.values()) {
        const row = this.rowOf(this.pending, counted.teamId, counted.day);
        if (row) for (const outcome of OUTCOMES) row[outcome] += counted[outcome];
        else this.dropped += total(counted);
      }
    }
    this.reportDropped();
  }

  /** The row of (team, day) in `rows`, created when there is room; undefined past the cap. */
  private rowOf(
    rows: Map<string, DailyRequestCounts>,
    teamId: string,
    day: string,
  ): DailyRequestCounts | undefined {
    const key = `${teamId}/${day}`;
    let row = rows.get(key);
    if (!row && rows.size < MAX_PENDING_ROWS) {
      row = { teamId, day, hits: 0, misses: 0, uploads: 0, refusedUploads: 0 };
      rows.set(key, row);
    }
    return row;
  }

  private reportDropped(): void {
    if (this.dropped === 0) return;
    this.logger.error(
      `dropped ${this.dropped} Nx request counts: more than ${MAX_PENDING_ROWS} (team, day) rows were waiting for the database`,
    );
    this.dropped = 0;
  }
}

const OUTCOMES: NxOutcome[] = ['hits', 'misses', 'uploads', 'refusedUploads'];

function total(row: RequestCounts): number {
  return OUTCOMES.reduce((n, outcome) => n + row[outcome], 0);
}
