import { AppException } from '../common/app-exception';
import { ArtifactHashPipe } from './artifact-hash.pipe';
import { artifactResponseHeaders, parseUploadHeaders } from './upload-headers';

const MAX = 1_000;

function rejection(headers: Record<string, string>) {
  try {
    parseUploadHeaders(headers, MAX);
  } catch (error) {
    const e = error as AppException;
    return { status: e.getStatus(), code: e.code };
  }
  throw new Error('expected a rejection');
}

describe('parseUploadHeaders', () => {
  it('reads every protocol header', () => {
    expect(
      parseUploadHeaders(
        {
          'content-length': '10',
          'x-artifact-duration': '55',
          'x-artifact-tag': 'dGFn',
          'x-artifact-sha': 'abc',
          'x-artifact-dirty-hash': 'def',
          'x-artifact-client-ci': 'github-actions',
          'x-artifact-client-interactive': '1',
        },
        MAX,
      ),
    ).toEqual({
      size: 10,
      durationMs: 55,
      tag: 'dGFn',
      sha: 'abc',
      dirtyHash: 'def',
      clientCi: 'github-actions',
      clientInteractive: true,
    });
  });

  it('defaults the optional headers', () => {
    expect(parseUploadHeaders({ 'content-length': '0' }, MAX)).toEqual({
      size: 0,
      durationMs: 0,
      tag: null,
      sha: null,
      dirtyHash: null,
      clientCi: null,
      clientInteractive: null,
    });
  });

  it.each([
    [{}, 411, 'length_required'],
    [{ 'content-length': '1001' }, 413, 'payload_too_large'],
    [{ 'content-length': '-1' }, 400, 'bad_request'],
    [{ 'content-length': '1e3' }, 400, 'bad_request'],
    [{ 'content-length': '1', 'x-artifact-duration': '-5' }, 400, 'bad_request'],
    [{ 'content-length': '1', 'x-artifact-duration': '99999999999' }, 400, 'bad_request'],
    [{ 'content-length': '1', 'x-artifact-tag': 't'.repeat(601) }, 400, 'bad_request'],
    [{ 'content-length': '1', 'x-artifact-client-ci': 'c'.repeat(51) }, 400, 'bad_request'],
    [{ 'content-length': '1', 'x-artifact-client-interactive': 'yes' }, 400, 'bad_request'],
  ])('rejects %j with %d %s', (headers, status, code) => {
    expect(rejection(headers as Record<string, string>)).toEqual({ status, code });
  });

  it('accepts a tag of exactly 600 characters', () => {
    const tag = 't'.repeat(600);
    expect(parseUploadHeaders({ 'content-length': '1', 'x-artifact-tag': tag }, MAX).tag).toBe(tag);
  });
});

describe('artifactResponseHeaders', () => {
  it('returns what was stored and omits what was not', () => {
    expect(
      artifactResponseHeaders({ durationMs: 0, tag: null, sha: 's', dirtyHash: null }),
    ).toEqual({
      'x-artifact-duration': '0',
      'x-artifact-sha': 's',
    });
  });
});

describe('ArtifactHashPipe', () => {
  const pipe = new ArtifactHashPipe();

  it('lower-cases a hex hash', () => {
    expect(pipe.transform('ABCdef0123')).toBe('abcdef0123');
  });

  it.each(['', 'xyz', '../etc/passwd', 'a'.repeat(129), 'ab%2F..', 'ab cd'])(
    'rejects %j',
    (hash) => {
      expect(() => pipe.transform(hash)).toThrow(AppException);
    },
  );
});
