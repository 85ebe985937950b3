import { Logger } from '@nestjs/common';
import * as net from 'node:net';
import type { S3Config } from '../../src/config/app-config';
import { StorageUnavailableError } from '../../src/storage/blob-storage';
import { S3Storage } from '../../src/storage/s3-storage';
import { digestOf, digestStream, GeneratedBody } from '../support/blob-bodies';
import { startS3Server } from '../support/s3-server';

const KEY = 'team_outage/0123456789abcdef';
const OTHER_KEY = 'team_outage/fedcba9876543210';
const MULTIPART = 9 * 1024 * 1024;

beforeAll(() => Logger.overrideLogger(false));

function unreachableConfig(port: number): S3Config {
  return {
    endPoint: '127.0.0.1',
    port,
    useSSL: false,
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    bucket: 'teamcache',
    region: 'us-east-1',
  };
}

describe('S3Storage during an S3 outage', () => {
  it('rejects every call with StorageUnavailableError, then works again on the same port', async () => {
    const s3 = await startS3Server();
    const storage = new S3Storage(s3.config);
    try {
      await storage.onModuleInit();
      await storage.put(KEY, new GeneratedBody(5000, 1), 5000);
      await s3.stop();

      await expect(storage.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(storage.ping()).rejects.toThrow(`127.0.0.1:${s3.port}`);
      for (const size of [5000, MULTIPART]) {
        const put = storage.put(OTHER_KEY, new GeneratedBody(size, 2), size);
        await expect(put).rejects.toBeInstanceOf(StorageUnavailableError);
      }
      await expect(storage.get(KEY)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(storage.stat(KEY)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(storage.delete(KEY)).rejects.toBeInstanceOf(StorageUnavailableError);

      await s3.restart();
      await expect(storage.ping()).resolves.toBeUndefined();
      const blob = await storage.get(KEY);
      expect(await digestStream(blob!.stream)).toEqual({ bytes: 5000, sha256: digestOf(5000, 1) });
      expect(await storage.stat(OTHER_KEY)).toBeNull();
      await storage.put(OTHER_KEY, new GeneratedBody(MULTIPART, 3), MULTIPART);
      expect(await storage.stat(OTHER_KEY)).toEqual({
        size: MULTIPART,
        version: expect.any(String),
      });
    } finally {
      storage.onModuleDestroy();
      await s3.close();
    }
  });

  it('never hangs on an endpoint that accepts connections but never answers', async () => {
    const sockets = new Set<net.Socket>();
    const blackhole = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const { port } = blackhole.address() as net.AddressInfo;
    const storage = new S3Storage(unreachableConfig(port), {
      pingTimeoutMs: 300,
      requestTimeoutMs: 600,
    });
    try {
      let started = Date.now();
      await expect(storage.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);

      started = Date.now();
      await expect(storage.get(KEY)).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(storage.put(KEY, new GeneratedBody(100, 4), 100)).rejects.toBeInstanceOf(
        StorageUnavailableError,
      );
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1_000);
      expect(elapsed).toBeLessThan(3_000);
    } finally {
      storage.onModuleDestroy();
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });
});

describe('S3Storage start-up', () => {
  it('creates its bucket when missing, and a second instance accepts the existing one', async () => {
    const s3 = await startS3Server('fresh-bucket');
    const first = new S3Storage(s3.config);
    const second = new S3Storage(s3.config);
    try {
      await expect(first.ping()).rejects.toThrow(/bucket fresh-bucket does not exist/);
      await first.onModuleInit();
      await expect(first.ping()).resolves.toBeUndefined();
      await second.onModuleInit();
      await expect(second.ping()).resolves.toBeUndefined();
    } finally {
      first.onModuleDestroy();
      second.onModuleDestroy();
      await s3.close();
    }
  });

  it('keeps retrying an unreachable S3 for startupWaitMs, then fails naming it', async () => {
    // A port this test holds, whose every connection is dropped: a freed port could be taken
    // by another test's server meanwhile and answer in its own way.
    const refusing = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const { port } = refusing.address() as net.AddressInfo;
    const storage = new S3Storage(unreachableConfig(port), { startupWaitMs: 1_500 });
    const started = Date.now();
    try {
      const init = storage.onModuleInit();
      await expect(init).rejects.toBeInstanceOf(StorageUnavailableError);
      await expect(init).rejects.toThrow(`S3 at 127.0.0.1:${port} is unavailable`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      storage.onModuleDestroy();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('fails at once, without retrying, when S3 refuses the credentials', async () => {
    const s3 = await startS3Server();
    // s3rver does not verify V4 signatures, only that the access key exists.
    const storage = new S3Storage({ ...s3.config, accessKey: 'NOBODY' }, { startupWaitMs: 20_000 });
    const started = Date.now();
    try {
      const init = storage.onModuleInit();
      await expect(init).rejects.toThrow();
      await expect(init).rejects.not.toBeInstanceOf(StorageUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      storage.onModuleDestroy();
      await s3.close();
    }
  });
});
