import { AppException } from '../common/app-exception';
import { UsageEventBatchPipe } from './usage-event-batch.pipe';
import { MAX_EVENTS_PER_BATCH } from './usage-event.dto';

const pipe = new UsageEventBatchPipe();
const SESSION = '4f9c5a52-8d0e-4b8e-9e55-0d1c4f8f9a10';
const event = (overrides: object = {}) => ({
  sessionId: SESSION,
  source: 'REMOTE',
  event: 'HIT',
  hash: 'abc123',
  duration: 250,
  ...overrides,
});

function rejection(body: unknown) {
  try {
    pipe.transform(body);
  } catch (error) {
    const e = error as AppException;
    return { status: e.getStatus(), code: e.code, message: e.message };
  }
  throw new Error('expected a rejection');
}

describe('UsageEventBatchPipe', () => {
  it('keeps valid events in order, as plain fields', () => {
    const batch = pipe.transform([event(), event({ source: 'LOCAL', event: 'MISS', duration: 0 })]);
    expect(batch.skipped).toEqual([]);
    expect(batch.events.map((e) => ({ ...e }))).toEqual([
      event(),
      event({ source: 'LOCAL', event: 'MISS', duration: 0 }),
    ]);
  });

  it('drops unknown fields instead of refusing the event', () => {
    const batch = pipe.transform([event({ teamId: 'other', nested: { a: 1 } })]);
    expect(batch.skipped).toEqual([]);
    expect({ ...batch.events[0] }).toEqual(event());
  });

  it('accepts an event without duration', () => {
    const { sessionId, source, hash } = event();
    const batch = pipe.transform([{ sessionId, source, event: 'MISS', hash }]);
    expect(batch.events).toHaveLength(1);
    expect(batch.events[0].duration).toBeUndefined();
  });

  it.each([
    ['a number', 42, 'not_an_object'],
    ['a string', 'HIT', 'not_an_object'],
    ['null', null, 'not_an_object'],
    ['an array', [event()], 'not_an_object'],
    ['no sessionId', event({ sessionId: undefined }), 'sessionId'],
    ['a sessionId that is no UUID', event({ sessionId: "';DELETE FROM x;--" }), 'sessionId'],
    ['an unknown source', event({ source: 'CLOUD' }), 'source'],
    ['an unknown event', event({ event: 'MAYBE' }), 'event'],
    ['no hash', event({ hash: undefined }), 'hash'],
    ['a hash that is not hex', event({ hash: 'ａｂｃ' }), 'hash'],
    ['a hash over 128 characters', event({ hash: 'a'.repeat(129) }), 'hash'],
    ['a negative duration', event({ duration: -1 }), 'duration'],
    ['a fractional duration', event({ duration: 1.5 }), 'duration'],
    ['a duration as a string', event({ duration: '5' }), 'duration'],
    ['a duration over 2^31 - 1', event({ duration: 2 ** 31 }), 'duration'],
  ])('skips %s and keeps the rest', (_name, bad, reason) => {
    const batch = pipe.transform([event(), bad, event({ hash: 'def' })]);
    expect(batch.events.map((e) => e.hash)).toEqual(['abc123', 'def']);
    expect(batch.skipped).toEqual([{ index: 1, reason, message: expect.any(String) }]);
  });

  it('names the first invalid field in declaration order', () => {
    const batch = pipe.transform([event({ sessionId: 'nope', duration: -1 })]);
    expect(batch.skipped).toEqual([
      { index: 0, reason: 'sessionId', message: 'sessionId must be a UUID' },
    ]);
  });

  it('accepts an empty array', () => {
    expect(pipe.transform([])).toEqual({ events: [], skipped: [] });
  });

  it.each([
    ['an object', { events: [event()] }],
    ['a string', 'HIT'],
    ['a number', 42],
    ['null', null],
  ])('refuses %s as a whole with 400', (_name, body) => {
    expect(rejection(body)).toEqual({
      status: 400,
      code: 'bad_request',
      message: 'the body must be a JSON array of events',
    });
  });

  it('refuses a missing body with 400 and says how to send one', () => {
    expect(rejection(undefined)).toMatchObject({ status: 400, code: 'bad_request' });
    expect(rejection(undefined).message).toMatch(/JSON array.*application\/json/);
  });

  it(`refuses more than ${MAX_EVENTS_PER_BATCH} items before looking at any`, () => {
    const items = Array(MAX_EVENTS_PER_BATCH + 1).fill('not an event');
    expect(rejection(items)).toEqual({
      status: 400,
      code: 'bad_request',
      message: `at most ${MAX_EVENTS_PER_BATCH} events per request`,
    });
    expect(pipe.transform(items.slice(1)).skipped).toHaveLength(MAX_EVENTS_PER_BATCH);
  });
});
