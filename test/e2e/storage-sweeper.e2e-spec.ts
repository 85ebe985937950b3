import { Logger } from '@nestjs/common';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, type S3Config } from '../../src/config/app-config';
import { FsStorage } from '../../src/storage/fs-storage';
import { S3Storage } from '../../src/storage/s3-storage';
import { StorageSweeper } from '../../src/storage/storage-sweeper';
import { abortedPut, randomHash } from '../support/artifacts';
import { startS3Server } from '../support/s3-server';
import { createTeam, issueToken } from '../support/teams';
import { createTestApp } from '../support/test-app';
import { eventually, sleep } from '../support/wait';

const HOUR_AGO = () => new Date(Date.now() - 3_600_000);

function leaveTempFile(storage: FsStorage, name: string, mtime?: Date): string {
  fs.mkdirSync(storage.tempDir, { recursive: true });
  const file = path.join(storage.tempDir, name);
  fs.writeFileSync(file, 'partial upload');
  if (mtime) fs.utimesSync(file, mtime, mtime);
  return file;
}

describe('StorageSweeper', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('is configured by SWEEP_TEMP_AFTER_MINUTES and SWEEP_TEMP_INTERVAL_MINUTES', () => {
    expect(loadConfig({}).tempSweep).toEqual({ afterMinutes: 60, intervalMs: 15 * 60_000 });
    expect(
      loadConfig({ SWEEP_TEMP_AFTER_MINUTES: '5', SWEEP_TEMP_INTERVAL_MINUTES: '0' }).tempSweep,
    ).toEqual({ afterMinutes: 5, intervalMs: 0 });
    expect(() => loadConfig({ SWEEP_TEMP_AFTER_MINUTES: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ SWEEP_TEMP_INTERVAL_MINUTES: '-1' })).toThrow(ConfigError);
  });

  it("runs in the app: removes only stale temp files, never a live upload's or a blob", async () => {
    const t = await createTestApp({ SWEEP_TEMP_AFTER_MINUTES: '30' });
    try {
      const token = (await issueToken(t, await createTeam(t, 'acme'))).token;
      const storage = new FsStorage(path.join(t.config.dataDir, 'blobs'));
      const stale = leaveTempFile(storage, 'crashed.part', HOUR_AGO());
      const fresh = leaveTempFile(storage, 'in-progress.part');
      await abortedPut(t.server, token, randomHash(), 10_000, 100);

      expect(await t.app.get(StorageSweeper).sweep()).toBe(1);
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.readdirSync(storage.tempDir)).toEqual([path.basename(fresh)]);
    } finally {
      await t.close();
    }
  });

  it('sweeps at start and then every interval, and stops on shutdown', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-sweep-'));
    const storage = new FsStorage(dir);
    const sweeper = new StorageSweeper(storage, {
      tempSweep: { afterMinutes: 1, intervalMs: 100 },
    });
    try {
      const atStart = leaveTempFile(storage, 'left-by-a-crash.part', HOUR_AGO());
      sweeper.onApplicationBootstrap();
      await eventually(async () => expect(fs.existsSync(atStart)).toBe(false), 2_000);
      const later = leaveTempFile(storage, 'later.part', HOUR_AGO());
      await eventually(async () => expect(fs.existsSync(later)).toBe(false), 2_000);

      await sweeper.onApplicationShutdown();
      const afterShutdown = leaveTempFile(storage, 'after.part', HOUR_AGO());
      await sleep(300);
      expect(fs.existsSync(afterShutdown)).toBe(true);
    } finally {
      await sweeper.onApplicationShutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('survives a failing sweep and never runs two at once', async () => {
    let running = 0;
    let overlapped = false;
    let calls = 0;
    const storage = {
      sweepStaleUploads: async () => {
        calls += 1;
        running += 1;
        overlapped ||= running > 1;
        await sleep(50);
        running -= 1;
        if (calls === 1) throw new Error('storage down');
        return 2;
      },
    } as unknown as FsStorage;
    const sweeper = new StorageSweeper(storage, { tempSweep: { afterMinutes: 1, intervalMs: 0 } });
    const [first, second] = [sweeper.sweep(), sweeper.sweep()];
    expect(await first).toBe(0);
    expect(await second).toBe(0);
    expect(calls).toBe(1);
    expect(await sweeper.sweep()).toBe(2);
    expect(overlapped).toBe(false);
  });
});

describe('S3Storage.sweepStaleUploads', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('reports once and skips on an S3 that cannot list multipart uploads (s3rver)', async () => {
    const s3 = await startS3Server();
    const storage = new S3Storage(s3.config);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await storage.onModuleInit();
      expect(await storage.sweepStaleUploads(60)).toBe(0);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('cannot list or abort'));
      // Not asked again: even with S3 down, the sweep neither fails nor waits.
      await s3.stop();
      expect(await storage.sweepStaleUploads(60)).toBe(0);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
      storage.onModuleDestroy();
      await s3.close();
    }
  });

  it('aborts only our own multipart uploads older than the given minutes', async () => {
    const fake = await startMultipartListingS3([
      { key: 'team_acme/abcdef', uploadId: 'stale-ours', initiated: HOUR_AGO() },
      { key: 'team_acme/012345', uploadId: 'fresh-ours', initiated: new Date() },
      { key: 'backups/db.dump', uploadId: 'stale-foreign', initiated: HOUR_AGO() },
    ]);
    const storage = new S3Storage(fake.config);
    try {
      expect(await storage.sweepStaleUploads(30)).toBe(1);
      expect(fake.aborted).toEqual(['team_acme/abcdef?uploadId=stale-ours']);
    } finally {
      storage.onModuleDestroy();
      await fake.close();
    }
  });

  it('rejects with StorageUnavailableError when S3 is down, so the sweeper retries later', async () => {
    const fake = await startMultipartListingS3([]);
    await fake.close();
    const storage = new S3Storage(fake.config);
    try {
      await expect(storage.sweepStaleUploads(30)).rejects.toThrow(/unavailable/);
    } finally {
      storage.onModuleDestroy();
    }
  });
});

interface FakeUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/**
 * The two S3 calls s3rver lacks, ListMultipartUploads and AbortMultipartUpload, answered as AWS
 * documents them; records each abort as `key?uploadId=...`.
 */
async function startMultipartListingS3(uploads: FakeUpload[]) {
  const aborted: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, bucket, ...key] = url.pathname.split('/');
    if (req.method === 'GET' && url.searchParams.has('uploads')) {
      res.setHeader('Content-Type', 'application/xml');
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?>' +
          '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
          `<Bucket>${bucket}</Bucket><IsTruncated>false</IsTruncated>` +
          uploads
            .map(
              (u) =>
                `<Upload><Key>${u.key}</Key><UploadId>${u.uploadId}</UploadId>` +
                `<Initiated>${u.initiated.toISOString()}</Initiated></Upload>`,
            )
            .join('') +
          '</ListMultipartUploadsResult>',
      );
      return;
    }
    if (req.method === 'DELETE' && url.searchParams.has('uploadId')) {
      aborted.push(`${key.join('/')}?uploadId=${url.searchParams.get('uploadId')}`);
      res.statusCode = 204;
      res.end();
      return;
    }
    res.statusCode = 501;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const config: S3Config = {
    endPoint: '127.0.0.1',
    port,
    useSSL: false,
    accessKey: 'FAKE',
    secretKey: 'FAKE',
    bucket: 'teamcache',
    region: 'us-east-1',
  };
  return {
    config,
    aborted,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    },
  };
}
