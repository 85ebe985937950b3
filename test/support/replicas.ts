import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { startS3Server, TestS3Server } from './s3-server';
import { makeDataDir, runCli, runCliAsync, ServerProcess } from './server-process';
import { createTestDatabase } from './test-database';

/**
 * Several real `teamcache serve` processes on one PostgreSQL database and one blob store (the
 * same DATA_DIR/blobs, or one s3rver bucket), as a deployment with WORKERS or replicas runs.
 */
export interface Replicas {
  env: Record<string, string>;
  /** One token of team `acme`, valid on every process (one JWT_SECRET). */
  token: string;
  start(extra?: Record<string, string>): Promise<ServerProcess>;
  cli(args: string[]): ReturnType<typeof runCli>;
  /** The CLI without blocking this process's event loop. */
  cliAsync(args: string[]): Promise<ReturnType<typeof runCli>>;
  stop(): Promise<void>;
}

export async function startReplicaSet(
  storage: 'fs' | 's3',
  env: Record<string, string> = {},
): Promise<Replicas> {
  const database = await createTestDatabase();
  const dataDir = makeDataDir();
  const s3: TestS3Server | undefined = storage === 's3' ? await startS3Server() : undefined;
  const shared = {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    JWT_SECRET: randomBytes(32).toString('hex'),
    LOG_LEVEL: 'warn',
    ...(s3?.env ?? {}),
    ...env,
  };
  const servers: ServerProcess[] = [];
  const cli = (args: string[]) => runCli(args, shared);
  const created = cli(['teams', 'create', 'acme']);
  if (created.status !== 0) throw new Error(created.stderr);
  const issued = cli(['tokens', 'issue', '--team', 'acme']);
  if (issued.status !== 0) throw new Error(issued.stderr);
  return {
    env: shared,
    token: issued.stdout.trim(),
    cli,
    cliAsync: (args) => runCliAsync(args, shared),
    start: async (extra = {}) => {
      const server = await ServerProcess.start({ ...shared, ...extra });
      servers.push(server);
      return server;
    },
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop('SIGKILL')));
      await s3?.close();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An upload whose bytes and headers tell each other apart: tag = sha256(body), duration = its length. */
export function distinctUpload(
  seed: string,
  size: number,
): { body: Buffer; tag: string; duration: number } {
  const body = Buffer.alloc(size);
  const block = createHash('sha256').update(seed).digest();
  for (let offset = 0; offset < size; offset += block.length) block.copy(body, offset);
  body.writeUInt32BE(size >>> 0, 0);
  return { body, tag: sha256Hex(body), duration: size };
}

export const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export interface Answer {
  status: number;
  body: Buffer;
  headers: http.IncomingHttpHeaders;
  /** The response ended early (a cut-off body). */
  cut: boolean;
}

/** One request on a connection of its own (so WORKERS=n spreads them over the workers). */
export function send(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let cut = false;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('aborted', () => (cut = true));
        res.on('error', () => (cut = true));
        res.on('close', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            headers: res.headers,
            cut,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What the consistency scenarios count; every one of them must stay 0. */
export interface Faults {
  /** An upload answered 2xx that a process did not serve once the staleness bound had passed. */
  lost: number;
  /** Bytes of one upload served with the tag, duration or query size of another. */
  mixed: number;
  /** A 200 whose body was cut off or of another length than its Content-Length. */
  partial: number;
  details: string[];
}

export const noFaults = (): Faults => ({ lost: 0, mixed: 0, partial: 0, details: [] });

/**
 * Checks one GET answer against the uploads that may legitimately be served for its hash
 * (keyed by tag): a 200 must be whole and carry the tag and duration of the very upload whose
 * bytes it carries. Returns the tag served, or null for a 404. Anything else is counted.
 */
export function checkServed(answer: Answer, faults: Faults, what: string): string | null {
  if (answer.status === 404) return null;
  if (answer.status !== 200) {
    faults.details.push(`${what}: status ${answer.status}`);
    faults.lost += 1;
    return null;
  }
  const length = Number(answer.headers['content-length']);
  if (answer.cut || answer.body.length !== length) {
    faults.partial += 1;
    faults.details.push(`${what}: ${answer.body.length} of ${length} bytes`);
    return null;
  }
  const tag = String(answer.headers['x-artifact-tag']);
  const duration = Number(answer.headers['x-artifact-duration']);
  if (sha256Hex(answer.body) !== tag || duration !== answer.body.length) {
    faults.mixed += 1;
    faults.details.push(
      `${what}: bytes ${sha256Hex(answer.body).slice(0, 8)} with tag ${tag.slice(0, 8)}, duration ${duration} for ${answer.body.length} bytes`,
    );
  }
  return tag;
}

export function putHeaders(upload: { tag: string; duration: number }): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    'x-artifact-tag': upload.tag,
    'x-artifact-duration': String(upload.duration),
  };
}
