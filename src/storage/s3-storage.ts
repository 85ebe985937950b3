import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'minio';
import type { S3Config } from '../config/app-config';
import {
  assertBlobKey,
  assertByteCount,
  BlobDownload,
  BlobStat,
  BlobStorage,
  ExpectedLength,
  InvalidBlobKeyError,
  ListedBlob,
  StorageUnavailableError,
} from './blob-storage';
import { isTeamId, parseBlobKey } from './blob-keys';
import { MeasuredBody, type StoredBody } from './measured-body';
import { isS3NotFound, s3CodeOf, toStorageError } from './s3-errors';
import { timeoutTransport } from './s3-transport';
import { S3UploadSink } from './s3-upload';
import { sweepStaleMultipartUploads } from './s3-upload-sweep';

export interface S3StorageOptions {
  /** Largest body sent as one PUT and the size of multipart parts; held in memory per upload. */
  partSize?: number;
  /** A request whose socket idles this long before the response headers fails (ETIMEDOUT). */
  requestTimeoutMs?: number;
  /** ping() gives up after this long: readiness must answer quickly while S3 hangs. */
  pingTimeoutMs?: number;
  /** How long start-up keeps retrying an unreachable S3 (compose/k8s start order) before failing. */
  startupWaitMs?: number;
}

const DEFAULTS: Required<S3StorageOptions> = {
  partSize: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  pingTimeoutMs: 1_500,
  startupWaitMs: 30_000,
};
/** S3 allows at most 10,000 parts; larger bodies get larger parts. */
const MAX_PARTS = 10_000;
const MIN_PART_SIZE = 5 * 1024 * 1024;
const STARTUP_RETRY_MS = 1_000;

/** Blobs as objects of one bucket (MinIO, AWS S3, R2, ...), path-style. */
export class S3Storage implements BlobStorage, OnModuleInit, OnModuleDestroy {
  readonly driver = 's3' as const;
  readonly endpoint: string;
  private readonly logger = new Logger(S3Storage.name);
  private readonly options: Required<S3StorageOptions>;
  private readonly agent: http.Agent;
  private readonly client: Client;
  private readonly bucket: string;
  private readonly region: string;
  /** Set once the endpoint turned out not to support listing multipart uploads. */
  private readonly sweep = { unsupported: false };

  constructor(config: S3Config, options: S3StorageOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    if (this.options.partSize < MIN_PART_SIZE) throw new RangeError('S3 parts must be >= 5 MiB');
    this.bucket = config.bucket;
    this.region = config.region;
    const port = config.port ?? (config.useSSL ? 443 : 80);
    this.endpoint = `${config.endPoint}:${port}`;
    // Our own pool, so that closing the app closes its keep-alive sockets too.
    this.agent = config.useSSL
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
    this.client = new Client({
      endPoint: config.endPoint,
      port,
      useSSL: config.useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: config.region,
      pathStyle: true,
      transport: timeoutTransport(config.useSSL, this.options.requestTimeoutMs),
      transportAgent: this.agent,
      // minio would retry 5xx after a console.warn; we fail fast and let the 503 reach the
      // client (turbo retries GET once) rather than hold a request for an unknown time.
      retryOptions: { disableRetry: true },
    });
  }

  /**
   * At start (not in the module factory: Nest aborts the process on factory errors, whereas a
   * rejected onModuleInit reaches the caller of app.init()/listen() and becomes a clean exit).
   * Waits up to startupWaitMs for an unreachable S3, fails at once on other errors (bad keys).
   */
  async onModuleInit(): Promise<void> {
    const deadline = Date.now() + this.options.startupWaitMs;
    for (;;) {
      try {
        await this.ensureBucket();
        return;
      } catch (error) {
        if (!(error instanceof StorageUnavailableError) || Date.now() >= deadline) throw error;
        this.logger.warn(`${error.message}; retrying`);
        await new Promise((resolve) => setTimeout(resolve, STARTUP_RETRY_MS));
      }
    }
  }

  onModuleDestroy(): void {
    this.agent.destroy();
  }

  /** Creates the bucket when missing; tolerates another instance creating it concurrently. */
  async ensureBucket(): Promise<void> {
    try {
      if (await this.client.bucketExists(this.bucket)) return;
      await this.client.makeBucket(this.bucket, this.region);
    } catch (error) {
      if (s3CodeOf(error) === 'BucketAlreadyOwnedByYou') return;
      throw toStorageError(error, this.endpoint);
    }
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.options.pingTimeoutMs} ms`)),
        this.options.pingTimeoutMs,
      );
    });
    try {
      const exists = await Promise.race([this.client.bucketExists(this.bucket), timeout]);
      if (!exists) throw new Error(`bucket ${this.bucket} does not exist`);
    } catch (error) {
      const mapped = toStorageError(error, this.endpoint);
      if (mapped instanceof StorageUnavailableError) throw mapped;
      throw new StorageUnavailableError(`S3 at ${this.endpoint}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async put(key: string, body: Readable, expected: ExpectedLength): Promise<StoredBody> {
    assertBlobKey(key);
    assertByteCount(expected);
    const capacity = typeof expected === 'number' ? expected : expected.atMost;
    const partSize = Math.max(this.options.partSize, Math.ceil(capacity / MAX_PARTS));
    const target = { client: this.client, bucket: this.bucket, key, endpoint: this.endpoint };
    const measured = new MeasuredBody(expected);
    await pipeline(body, measured, new S3UploadSink(target, capacity, partSize));
    return measured.stored();
  }

  async get(key: string): Promise<BlobDownload | null> {
    assertBlobKey(key);
    let stream: Readable;
    try {
      stream = await this.client.getObject(this.bucket, key);
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw toStorageError(error, this.endpoint);
    }
    // The size of the very response we stream (minio returns the http.IncomingMessage): a
    // separate statObject could describe another version written in between.
    const size = Number((stream as Partial<http.IncomingMessage>).headers?.['content-length']);
    if (!Number.isSafeInteger(size) || size < 0) {
      stream.destroy();
      throw new Error(`S3 answered GET ${key} without a usable Content-Length`);
    }
    const etag = (stream as Partial<http.IncomingMessage>).headers?.etag;
    return { size, stream, version: objectVersion(etag, size) };
  }

  async stat(key: string): Promise<BlobStat | null> {
    assertBlobKey(key);
    try {
      const { size, etag } = await this.client.statObject(this.bucket, key);
      return { size, version: objectVersion(etag, size) };
    } catch (error) {
      if (isS3NotFound(error)) return null;
      throw toStorageError(error, this.endpoint);
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    try {
      await this.client.removeObject(this.bucket, key);
    } catch (error) {
      if (isS3NotFound(error)) return;
      throw toStorageError(error, this.endpoint);
    }
  }

  async listTeams(): Promise<string[]> {
    const teams: string[] = [];
    try {
      for await (const item of this.client.listObjectsV2(this.bucket, '', false)) {
        const name = (item as { prefix?: string }).prefix?.replace(/\/$/, '');
        if (name && isTeamId(name)) teams.push(name);
      }
    } catch (error) {
      throw toStorageError(error, this.endpoint);
    }
    return teams;
  }

  /** One page of up to 1,000 keys at a time. */
  async *listTeamBlobs(teamId: string): AsyncIterable<ListedBlob> {
    if (!isTeamId(teamId)) throw new InvalidBlobKeyError(teamId);
    const items = this.client.listObjectsV2(this.bucket, `${teamId}/`, true);
    try {
      for await (const item of items as AsyncIterable<{
        name?: string;
        size: number;
        lastModified?: Date;
      }>) {
        if (!item.name || !parseBlobKey(item.name)) continue;
        yield { key: item.name, size: item.size, modifiedAt: item.lastModified ?? new Date(0) };
      }
    } catch (error) {
      throw toStorageError(error, this.endpoint);
    } finally {
      items.destroy();
    }
  }

  sweepStaleUploads(olderThanMinutes: number): Promise<number> {
    const target = { client: this.client, bucket: this.bucket, endpoint: this.endpoint };
    return sweepStaleMultipartUploads(
      { ...target, logger: this.logger },
      olderThanMinutes,
      this.sweep,
    );
  }
}

/** A body's identity from its ETag (quoted in a GET answer, bare from statObject) and size. */
function objectVersion(etag: string | undefined, size: number): string {
  return `${(etag ?? '').replace(/"/g, '')}:${size}`;
}
