import { Logger } from '@nestjs/common';
import type { Repository } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { EventsService } from './events.service';
import { UsageEventBatchPipe } from './usage-event-batch.pipe';
import type { UsageEvent } from './usage-event.entity';

const SESSION = '4f9c5a52-8d0e-4b8e-9e55-0d1c4f8f9a10';
const event = (overrides: object = {}) => ({
  sessionId: SESSION,
  source: 'REMOTE',
  event: 'HIT',
  hash: 'ABC123',
  duration: 250,
  ...overrides,
});

describe('EventsService.record', () => {
  let insert: jest.Mock;
  let metrics: MetricsService;
  let service: EventsService;
  let debug: jest.SpyInstance;

  beforeEach(() => {
    insert = jest.fn().mockResolvedValue(undefined);
    metrics = new MetricsService();
    service = new EventsService({ insert } as unknown as Repository<UsageEvent>, metrics);
    debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
  });
  afterEach(() => debug.mockRestore());

  const skippedTotal = async (reason: string) =>
    (await metrics.registry.getSingleMetric('teamcache_usage_events_rejected_total')?.get())?.values
      .filter((v) => v.labels.reason === reason)
      .reduce((sum, v) => sum + v.value, 0) ?? 0;

  it('inserts the valid events with lower-cased hashes and only the known fields', async () => {
    const batch = new UsageEventBatchPipe().transform([
      event({ extra: 1 }),
      event({ duration: undefined }),
    ]);
    await service.record('team_1', batch, 'circleci');
    expect(insert).toHaveBeenCalledTimes(1);
    const row = { teamId: 'team_1', sessionId: SESSION, source: 'REMOTE', event: 'HIT' };
    expect(insert.mock.calls[0][0]).toEqual([
      { ...row, hash: 'abc123', durationMs: 250, clientCi: 'circleci' },
      { ...row, hash: 'abc123', durationMs: 0, clientCi: 'circleci' },
    ]);
    expect(debug).not.toHaveBeenCalled();
  });

  it('counts each skipped event by reason and logs how many and the first reason at debug', async () => {
    const batch = new UsageEventBatchPipe().transform([
      event(),
      42,
      event({ source: 'CLOUD' }),
      event({ source: 'NOPE' }),
    ]);
    await service.record('team_1', batch, null);
    expect(insert.mock.calls[0][0]).toHaveLength(1);
    expect(await skippedTotal('not_an_object')).toBe(1);
    expect(await skippedTotal('source')).toBe(2);
    expect(debug).toHaveBeenCalledTimes(1);
    expect(debug.mock.calls[0][0]).toBe(
      'skipped 3 of 4 usage events of team team_1; first, at index 1: an event must be a JSON object',
    );
  });

  it('inserts nothing when every event was skipped', async () => {
    await service.record('team_1', new UsageEventBatchPipe().transform([null]), null);
    expect(insert).not.toHaveBeenCalled();
    expect(await skippedTotal('not_an_object')).toBe(1);
  });
});
