import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parse } from 'yaml';
import { EnvironmentSchema } from '../../src/config/environment.schema';
import { createTestApp, TestApp } from '../support/test-app';

/** Static checks of the deployment files (no Docker engine needed), plus their healthcheck. */

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const SCHEMA_KEYS = Object.keys(new EnvironmentSchema());

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string> | string[];
  env_file?: (string | { path: string })[];
  volumes?: string[];
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
  command?: string | string[];
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerfile(): Instruction[] {
  const logical = read('Dockerfile')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Variables of .env.example: set (`NAME=`) and documented (`# NAME=`). */
function envExample(): { set: Record<string, string>; documented: string[] } {
  const set: Record<string, string> = {};
  const documented: string[] = [];
  for (const line of read('.env.example').split('\n')) {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!match) continue;
    documented.push(match[2]);
    if (!match[1]) set[match[2]] = match[3];
  }
  return { set, documented };
}

/** Variables compose interpolates (`${NAME}`, `${NAME:-x}`, `${NAME:?msg}`). */
function composeVariables(): { all: string[]; required: string[] } {
  const text = read('docker-compose.yml');
  const all = [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
  const required = [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]);
  return { all: [...new Set(all)], required: [...new Set(required)] };
}

/** Variables Docker Compose itself reads from .env (not interpolated, not the app's). */
const COMPOSE_OWN = ['COMPOSE_PROFILES'];

const environmentKeys = (service: Service) =>
  Array.isArray(service.environment)
    ? service.environment.map((entry) => entry.split('=')[0])
    : Object.keys(service.environment ?? {});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as Compose;
  const { app, postgres, minio, seaweedfs } = compose.services;

  it('has postgres, minio (or seaweedfs) and app, each with a healthcheck', () => {
    for (const name of ['postgres', 'minio', 'seaweedfs', 'app']) {
      const test = compose.services[name]?.healthcheck?.test;
      expect(test?.length).toBeGreaterThan(0);
    }
  });

  it('keeps PostgreSQL, MinIO and SeaweedFS data in named volumes', () => {
    const named = Object.keys(compose.volumes ?? {});
    for (const [service, target] of [
      [postgres, '/var/lib/postgresql/data'],
      [minio, '/data'],
      [seaweedfs, '/data'],
    ] as const) {
      const mount = service.volumes?.find((v) => v.split(':')[1] === target);
      expect(mount).toBeDefined();
      expect(named).toContain(mount!.split(':')[0]);
    }
  });

  it('builds the app from the Dockerfile and starts it once its dependencies are healthy', () => {
    expect(app.build).toBeDefined();
    expect(app.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      minio: { condition: 'service_healthy', required: false },
      seaweedfs: { condition: 'service_healthy', required: false },
    });
  });

  it('sets only variables the configuration schema knows on the app', () => {
    const keys = environmentKeys(app);
    expect(keys).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'JWT_SECRET', 'S3_ENDPOINT', 'S3_SECRET_KEY']),
    );
    expect(keys.filter((key) => !SCHEMA_KEYS.includes(key))).toEqual([]);
  });

  it('passes .env to the app, and refuses to start without its secrets', () => {
    const files = (app.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path));
    expect(files).toEqual(['.env']);
    expect(composeVariables().required).toEqual(
      expect.arrayContaining(['POSTGRES_PASSWORD', 'JWT_SECRET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']),
    );
  });
});

describe('.env.example', () => {
  const { set, documented } = envExample();
  const compose = composeVariables();

  it('documents every variable of the configuration schema', () => {
    expect(SCHEMA_KEYS.filter((key) => !documented.includes(key))).toEqual([]);
  });

  it('holds only variables the schema, docker-compose.yml or Compose itself know', () => {
    const unknown = documented.filter(
      (key) =>
        !SCHEMA_KEYS.includes(key) && !compose.all.includes(key) && !COMPOSE_OWN.includes(key),
    );
    expect(unknown).toEqual([]);
  });

  it('sets every variable compose requires, secrets as change-me placeholders', () => {
    for (const key of compose.required) expect(Object.keys(set)).toContain(key);
    for (const key of ['POSTGRES_PASSWORD', 'JWT_SECRET', 'ADMIN_TOKEN', 'S3_SECRET_KEY']) {
      expect(set[key]).toMatch(/^change-me/);
    }
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfile();
  const of = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  const runtime = instructions.slice(instructions.lastIndexOf(froms[froms.length - 1]));

  it('is multi-stage, every stage on one pinned node bookworm-slim release', () => {
    const stages = of('FROM').map((i) => i.args);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim AS \w+$/i);
    expect(new Set(stages.map((stage) => stage.split(' ')[0])).size).toBe(1);
    expect(runtime.some((i) => i.keyword === 'COPY' && i.args.startsWith('--from='))).toBe(true);
  });

  it('installs only production dependencies, without install scripts, in the runtime stage', () => {
    const installs = runtime.filter((i) => i.keyword === 'RUN' && i.args.includes('npm ci'));
    expect(installs).toHaveLength(1);
    expect(installs[0].args).toContain('--omit=dev');
    expect(installs[0].args).toContain('--ignore-scripts');
  });

  it('runs as a non-root user', () => {
    const users = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('checks /healthz and runs `teamcache serve`, with teamcache on PATH', () => {
    expect(
      of('HEALTHCHECK')
        .map((i) => i.args)
        .join(),
    ).toContain('/healthz');
    const command = [...of('ENTRYPOINT'), ...of('CMD')]
      .map((i) => (JSON.parse(i.args) as string[]).join(' '))
      .join(' ');
    expect(command).toMatch(/teamcache serve$/);
    expect(runtime.map((i) => i.args).join('\n')).toContain(
      'ln -s /app/bin/teamcache.js /usr/local/bin/teamcache',
    );
    expect(fs.statSync(path.join(ROOT, 'bin/teamcache.js')).mode & 0o111).not.toBe(0);
  });

  it('ships every public assets folder under src/', () => {
    const copied = runtime.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(' ')[0]);
    const publicDirs = fs
      .readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name === 'public')
      .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
    for (const dir of publicDirs) expect(copied).toContain(dir);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', '.git', '.data']));
  });
});

describe('the image healthcheck command', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  /** Runs `node <args>` with PORT set; asynchronous, as the app answers from this process. */
  const runNode = (args: string[], port: number) =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, args, { env: { PORT: String(port) } });
      child.on('error', reject);
      child.on('close', resolve);
    });

  it('of the Dockerfile succeeds against a running server and fails when nothing answers', async () => {
    const args = dockerfile()
      .find((i) => i.keyword === 'HEALTHCHECK')!
      .args.replace(/^(--\S+\s+)*CMD\s+/, '');
    const [command, ...rest] = JSON.parse(args) as string[];
    expect(command).toBe('node');
    expect(await runNode(rest, (t.server.address() as AddressInfo).port)).toBe(0);
    expect(await runNode(rest, 1)).toBe(1);
  });

  it('of docker-compose.yml succeeds against a running server', async () => {
    const compose = parse(read('docker-compose.yml')) as Compose;
    const [kind, command, ...rest] = compose.services.app.healthcheck!.test as string[];
    expect([kind, command]).toEqual(['CMD', 'node']);
    const port = (t.server.address() as AddressInfo).port;
    const script = rest.map((arg) => arg.replace('port:3000', `port:${port}`));
    expect(await runNode(script, port)).toBe(0);
  });
});
