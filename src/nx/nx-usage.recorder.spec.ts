import { Logger } from '@nestjs/common';
import type {
  CacheRequestCountsRepository,
  DailyRequestCounts,
} from '../stats/cache-request-counts.repository';
import { MAX_PENDING_ROWS, NxUsageRecorder, nxOutcomeOf } from './nx-usage.recorder';

/** A repository double: records each batch, fails while `failing` is set. */
class FakeCounts {
  batches: DailyRequestCounts[][] = [];
  failing = false;
  /** Resolves the write in progress; set while one is held open by `hold`. */
  release?: () => void;
  hold = false;

  async addCounts(tool: string, rows: DailyRequestCounts[]): Promise<void> {
    expect(tool).toBe('nx');
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    if (this.failing) throw new Error('connection refused');
    this.batches.push(rows.map((row) => ({ ...row })));
  }
}

const MONDAY = new Date('2026-11-30T10:00:00Z');
const TUESDAY = new Date('2026-12-01T00:00:01Z');
const row = (teamId: string, day: string, counts: Partial<DailyRequestCounts> = {}) => ({
  teamId,
  day,
  hits: 0,
  misses: 0,
  uploads: 0,
  refusedUploads: 0,
  ...counts,
});

describe('nxOutcomeOf', () => {
  it.each([
    ['GET', 200, 'hits'],
    ['GET', 404, 'misses'],
    ['GET', 503, null],
    ['GET', 500, null],
    ['PUT', 200, 'uploads'],
    ['PUT', 403, 'refusedUploads'],
    ['PUT', 409, 'refusedUploads'],
    ['PUT', 413, 'refusedUploads'],
    ['PUT', 400, 'refusedUploads'],
    ['PUT', 503, null],
  ] as const)('%s answered %d counts as %s', (method, status, outcome) => {
    expect(nxOutcomeOf(method, status)).toBe(outcome);
  });
});

describe('NxUsageRecorder', () => {
  let counts: FakeCounts;
  let recorder: NxUsageRecorder;
  let errors: jest.SpyInstance;

  beforeEach(() => {
    counts = new FakeCounts();
    recorder = new NxUsageRecorder(counts as unknown as CacheRequestCountsRepository);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('writes nothing on the request path, then one row per team and UTC day per flush', async () => {
    recorder.recordAnswer('team_a', 'GET', 404, MONDAY);
    recorder.recordAnswer('team_a', 'PUT', 200, MONDAY);
    recorder.recordAnswer('team_a', 'GET', 200, MONDAY);
    recorder.recordAnswer('team_a', 'GET', 200, MONDAY);
    recorder.recordAnswer('team_a', 'PUT', 409, MONDAY);
    recorder.recordAnswer('team_a', 'GET', 503, MONDAY);
    recorder.recordAnswer('team_a', 'GET', 200, TUESDAY);
    recorder.recordAnswer('team_b', 'PUT', 403, MONDAY);
    expect(counts.batches).toEqual([]);
    expect(recorder.backlog).toEqual({ rows: 3, requests: 7 });

    await recorder.flush();
    expect(counts.batches).toEqual([
      [
        row('team_a', '2026-11-30', { hits: 2, misses: 1, uploads: 1, refusedUploads: 1 }),
        row('team_a', '2026-12-01', { hits: 1 }),
        row('team_b', '2026-11-30', { refusedUploads: 1 }),
      ],
    ]);
    expect(recorder.backlog).toEqual({ rows: 0, requests: 0 });
    await recorder.flush();
    expect(counts.batches).toHaveLength(1);
  });

  it('keeps the counts of a failed write and adds them to the next one', async () => {
    recorder.record('team_a', 'hits', MONDAY);
    counts.failing = true;
    await expect(recorder.flush()).resolves.toBeUndefined();
    expect(counts.batches).toEqual([]);
    recorder.record('team_a', 'hits', MONDAY);
    recorder.record('team_b', 'misses', MONDAY);
    expect(recorder.backlog).toEqual({ rows: 2, requests: 3 });

    counts.failing = false;
    await recorder.flush();
    expect(counts.batches).toEqual([
      [row('team_a', '2026-11-30', { hits: 2 }), row('team_b', '2026-11-30', { misses: 1 })],
    ]);
  });

  it('counts what arrives during a write in the next batch, and a failure loses neither', async () => {
    recorder.record('team_a', 'uploads', MONDAY);
    counts.hold = true;
    counts.failing = true;
    const first = recorder.flush();
    await Promise.resolve();
    recorder.record('team_a', 'uploads', MONDAY);
    counts.release!();
    await first;
    counts.hold = false;
    counts.failing = false;
    await recorder.flush();
    expect(counts.batches).toEqual([[row('team_a', '2026-11-30', { uploads: 2 })]]);
  });

  it('lets a flush wait for the write under way (the shutdown flush after the timer)', async () => {
    recorder.record('team_a', 'hits', MONDAY);
    counts.hold = true;
    const timer = recorder.flush();
    await Promise.resolve();
    recorder.record('team_a', 'misses', MONDAY);
    const shutdown = recorder.beforeApplicationShutdown();
    counts.release!();
    await timer;
    await new Promise((resolve) => setImmediate(resolve));
    counts.release!();
    await shutdown;
    expect(counts.batches).toEqual([
      [row('team_a', '2026-11-30', { hits: 1 })],
      [row('team_a', '2026-11-30', { misses: 1 })],
    ]);
  });

  it(`drops (and logs) counts past ${MAX_PENDING_ROWS} waiting rows, keeping the rows it has`, async () => {
    counts.failing = true;
    for (let i = 0; i < MAX_PENDING_ROWS; i++) recorder.record(`team_${i}`, 'hits', MONDAY);
    recorder.record('team_0', 'hits', MONDAY);
    recorder.record('team_new', 'hits', MONDAY);
    recorder.record('team_new', 'misses', MONDAY);
    expect(recorder.backlog).toEqual({ rows: MAX_PENDING_ROWS, requests: MAX_PENDING_ROWS + 1 });

    await recorder.flush();
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/^dropped 2 Nx request counts/));
    expect(recorder.backlog).toEqual({ rows: MAX_PENDING_ROWS, requests: MAX_PENDING_ROWS + 1 });

    counts.failing = false;
    await recorder.flush();
    expect(counts.batches[0]).toHaveLength(MAX_PENDING_ROWS);
    expect(counts.batches[0][0]).toEqual(row('team_0', '2026-11-30', { hits: 2 }));
    expect(recorder.backlog.rows).toBe(0);
  });

  it('drops what was counted meanwhile past the cap when a failed batch comes back', async () => {
    for (let i = 0; i < MAX_PENDING_ROWS; i++) recorder.record(`team_${i}`, 'hits', MONDAY);
    counts.hold = true;
    counts.failing = true;
    const write = recorder.flush();
    await Promise.resolve();
    recorder.record('team_late', 'uploads', MONDAY);
    counts.release!();
    await write;
    expect(errors).toHaveBeenCalledWith(expect.stringMatching(/^dropped 1 Nx request counts/));
    expect(recorder.backlog).toEqual({ rows: MAX_PENDING_ROWS, requests: MAX_PENDING_ROWS });
  });

  it('flushes on a timer once started, and stops with the module', async () => {
    jest.useFakeTimers();
    try {
      recorder.onModuleInit();
      recorder.record('team_a', 'hits', MONDAY);
      await jest.advanceTimersByTimeAsync(5_000);
      expect(counts.batches).toHaveLength(1);
      recorder.onModuleDestroy();
      recorder.record('team_a', 'hits', MONDAY);
      await jest.advanceTimersByTimeAsync(60_000);
      expect(counts.batches).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
