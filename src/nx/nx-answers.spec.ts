import { HttpStatus } from '@nestjs/common';
import { AppException } from '../common/app-exception';
import { DependencyUnavailableError } from '../common/domain-errors';
import { ErrorCode } from '../common/error-codes';
import { nxAnswerFor } from './nx-answers';

const paused = AppException.forbidden('paused', ErrorCode.RemoteCachingPaused);
const tooLarge = new AppException(HttpStatus.PAYLOAD_TOO_LARGE, ErrorCode.PayloadTooLarge, 'big');
const blocked = new AppException(HttpStatus.TOO_MANY_REQUESTS, ErrorCode.TooManyRequests, 'slow');

describe('nxAnswerFor (what the Nx client hears)', () => {
  it.each([
    // error, GET status, PUT status, reason
    [AppException.unauthorized('bad token'), 401, 401, 'unauthorized'],
    [paused, 404, 403, 'forbidden'],
    [AppException.forbidden('read-only'), 404, 403, 'forbidden'],
    [blocked, 404, 403, 'forbidden'],
    [AppException.conflict('exists'), 409, 409, 'exists'],
    [AppException.badRequest('hash'), 404, 403, 'invalid'],
    [tooLarge, 404, 403, 'invalid'],
    [new DependencyUnavailableError('db down'), 404, 403, 'outage'],
    [new Error('a bug'), 500, 500, 'error'],
  ])('%s: GET %i, PUT %i (%s)', (error, get, put, reason) => {
    expect(nxAnswerFor('GET', error, 'miss')).toMatchObject({ status: get, reason });
    expect(nxAnswerFor('PUT', error, 'miss')).toMatchObject({ status: put, reason });
  });

  it('keeps an outage an honest 503 under NX_ON_OUTAGE=fail', () => {
    const outage = new DependencyUnavailableError('storage down');
    expect(nxAnswerFor('GET', outage, 'fail')).toMatchObject({ status: 503, reason: 'outage' });
    expect(nxAnswerFor('PUT', outage, 'fail')).toMatchObject({ status: 503, reason: 'outage' });
  });

  it('never tells the client what a bug was', () => {
    expect(nxAnswerFor('GET', new Error('secret detail'), 'miss').message).not.toContain('secret');
  });
});
