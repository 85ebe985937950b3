import type { AppConfig } from './config/app-config';
import { readyReport } from './ready-report';

const FS: AppConfig['storage'] = { driver: 'fs', root: '/data/blobs' };
const TOKEN = 'a'.repeat(32);

describe('readyReport', () => {
  it('says where the cache answers, that the admin API is off and how to start', () => {
    const lines = readyReport({ storage: FS }, { url: 'http://localhost:3000' }, 0);
    expect(lines.map((line) => line.msg)).toEqual([
      'ready: cache API on http://localhost:3000 (storage: fs)',
      'admin API and UI are off: set ADMIN_TOKEN (at least 32 characters) to turn them on',
      expect.stringMatching(
        /^no team yet: `teamcache teams create my-team`, then `teamcache tokens issue --team my-team --name laptop`.*TURBO_API=http:\/\/localhost:3000 TURBO_TEAM=my-team TURBO_TOKEN=<the token>$/,
      ),
    ]);
    expect(lines[0].fields).toEqual({
      url: 'http://localhost:3000',
      adminUrl: undefined,
      storage: 'fs',
    });
  });

  it('names the admin UI on the public URL, or on ADMIN_PORT when it has its own listener', () => {
    const shared = readyReport({ storage: FS, adminToken: TOKEN }, { url: 'http://h:3000' }, 1);
    expect(shared.map((line) => line.msg)).toEqual([
      'ready: cache API on http://h:3000 (storage: fs)',
      'admin API and UI on http://h:3000/admin/ui',
    ]);
    const own = readyReport(
      { storage: FS, adminToken: TOKEN },
      { url: 'http://h:3000', adminUrl: 'http://127.0.0.1:3001' },
      1,
    );
    expect(own[1].msg).toBe('admin API and UI on http://127.0.0.1:3001/admin/ui');
    expect(own[0].fields).toMatchObject({ adminUrl: 'http://127.0.0.1:3001' });
  });

  it('names the bucket of S3 storage', () => {
    const s3: AppConfig['storage'] = {
      driver: 's3',
      endPoint: 'minio',
      useSSL: false,
      accessKey: 'k',
      secretKey: 's',
      bucket: 'teamcache',
      region: 'us-east-1',
    };
    expect(readyReport({ storage: s3 }, { url: 'http://h:3000' }, 2)[0].msg).toBe(
      'ready: cache API on http://h:3000 (storage: s3 bucket teamcache)',
    );
  });
});
