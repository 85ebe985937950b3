import { QueryFailedError, QueryRunnerProviderAlreadyReleasedError } from 'typeorm';
import { StorageUnavailableError } from '../storage/blob-storage';
import { isDependencyFailure } from './dependency-failure';

const withCode = (code: string) => Object.assign(new Error('connect failed'), { code });
const queryFailed = (sqlState: string, message = 'failed') =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code: sqlState }));

describe('isDependencyFailure', () => {
  it.each([
    ['a storage outage', new StorageUnavailableError('s3 down')],
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['an AggregateError of refusals', new AggregateError([withCode('ECONNREFUSED')], 'all failed')],
    [
      'a plain object from another realm',
      { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' },
    ],
    ['pg pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a query cut by shutdown (57P01)', queryFailed('57P01')],
    ['a query on a broken connection (08006)', queryFailed('08006')],
    ['too many connections (53300)', queryFailed('53300')],
    ['a query whose connection was reset under it', queryFailed('ECONNRESET', 'read ECONNRESET')],
    [
      'a statement on a connection TypeORM already released',
      new QueryRunnerProviderAlreadyReleasedError(),
    ],
    [
      'a statement after the connection died mid-transaction',
      new Error('Client was closed and is not queryable'),
    ],
    [
      'a statement on a client that saw a connection error',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
  ])('is true for %s', (_name, error) => {
    expect(isDependencyFailure(error)).toBe(true);
  });

  it.each([
    ['a unique violation', queryFailed('23505', 'duplicate key')],
    ['a syntax error', queryFailed('42601')],
    ['a programming error', new TypeError('x is undefined')],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
  ])('is false for %s', (_name, error) => {
    expect(isDependencyFailure(error)).toBe(false);
  });
});
