import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import S3rver from 's3rver';
import { loadConfig, S3Config } from '../../src/config/app-config';

/**
 * A local S3 (s3rver) on 127.0.0.1 and a random free port, storing in a temp dir. stop() and
 * restart() simulate an outage: the data dir and the port survive, like a MinIO restart.
 *
 * s3rver's limits, as seen from the storage tests: no ListMultipartUploads and no
 * AbortMultipartUpload (405), and it writes objects in place (not atomically).
 */
export interface TestS3Server {
  endPoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  bucket: string;
  /** The variables an operator would set; pass to loadConfig / createTestApp. */
  env: Record<string, string>;
  /** What loadConfig makes of `env`, for constructing S3Storage directly. */
  config: S3Config;
  /** Stops answering: listener closed, open connections dropped. */
  stop(): Promise<void>;
  /** Answers again on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops (if running) and removes the data dir. */
  close(): Promise<void>;
}

const CREDENTIAL = 'S3RVER';

export async function startS3Server(bucket = 'teamcache-test'): Promise<TestS3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-s3-'));
  let server: S3rver | undefined = new S3rver(options(directory, 0));
  const { port } = await server.run();
  const stop = async () => {
    if (!server) return;
    const running = server;
    server = undefined;
    running.httpServer?.closeAllConnections();
    await running.close();
  };
  const env = {
    S3_ENDPOINT: '127.0.0.1',
    S3_PORT: String(port),
    S3_USE_SSL: 'false',
    S3_ACCESS_KEY: CREDENTIAL,
    S3_SECRET_KEY: CREDENTIAL,
    S3_BUCKET: bucket,
  };
  const { storage } = loadConfig(env);
  if (storage.driver !== 's3') throw new Error('the S3 variables did not select the s3 driver');
  return {
    endPoint: '127.0.0.1',
    port,
    accessKey: CREDENTIAL,
    secretKey: CREDENTIAL,
    bucket,
    env,
    config: storage,
    stop,
    restart: async () => {
      await stop();
      const next = new S3rver(options(directory, port));
      await next.run();
      server = next;
    },
    close: async () => {
      await stop();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

function options(directory: string, port: number) {
  return { address: '127.0.0.1', port, silent: true, directory };
}
