import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

/**
 * Static checks that the deployment pulls and runs today (no Docker engine needed): every image
 * pinned to a release, Node on a supported LTS, each S3 profile wired the way the app expects, the
 * admin port on loopback only, and every compose service the docs name present.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  profiles?: string[];
  command?: string | string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
}
const { services } = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
const { app } = services;
const appEnv = app.environment ?? {};

/** `NAME=value` lines of .env.example (set, not commented out). */
const envExample = Object.fromEntries(
  [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]),
);

/** Images of the Dockerfile's FROM lines, stages that build on an earlier stage left out. */
function dockerfileImages(): string[] {
  const stages: string[] = [];
  const images: string[] = [];
  for (const m of read('Dockerfile').matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    if (!stages.includes(m[1])) images.push(m[1]);
    if (m[2]) stages.push(m[2]);
  }
  return images;
}

/** A release: major.minor at least (17.11-bookworm, 24.21.0-bookworm-slim) or MinIO's dated tag. */
const RELEASE_TAG = /^(\d+\.\d+[\w.-]*|RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z)$/;
/** Docker Hub's minio/ namespace, removed in September 2026. */
const DOCKER_HUB_MINIO = /^((docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?minio\//;

function imageParts(ref: string) {
  const [name, digest] = ref.split('@');
  const colon = name.lastIndexOf(':');
  const tagged = colon > name.lastIndexOf('/');
  return {
    repository: tagged ? name.slice(0, colon) : name,
    tag: tagged ? name.slice(colon + 1) : undefined,
    digest,
  };
}

describe('image pins', () => {
  const pulled = [
    ...Object.values(services)
      .filter((service) => !service.build)
      .map((service) => service.image!),
    ...dockerfileImages(),
  ];

  it.each(pulled)('%s is an exact release, not from the removed minio/ namespace', (ref) => {
    const { repository, tag, digest } = imageParts(ref);
    expect(tag).toMatch(RELEASE_TAG);
    expect(repository).not.toMatch(DOCKER_HUB_MINIO);
    if (digest !== undefined) expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

/** End of life of each Node.js LTS line (nodejs.org/en/about/previous-releases). */
const NODE_LTS_END_OF_LIFE: Record<number, string> = {
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
};

/** The range forms package.json's engines uses: `^M.m` and `>=M[.m]`, joined by `||`. */
function satisfies(version: string, range: string): boolean {
  const parts = (v: string) => v.replace(/^v/, '').split('.').map(Number);
  const have = parts(version);
  return range.split('||').some((alternative) => {
    const m = /^\s*(\^|>=)\s*(\d+(?:\.\d+){0,2})\s*$/.exec(alternative);
    if (!m) throw new Error(`unsupported engines range: ${alternative}`);
    const min = parts(m[2]);
    const diff = [0, 1, 2].map((i) => have[i] - (min[i] ?? 0)).find((d) => d !== 0) ?? 0;
    return diff >= 0 && (m[1] === '>=' || have[0] === min[0]);
  });
}

describe('Node.js', () => {
  const nodeImages = dockerfileImages().filter((ref) => imageParts(ref).repository === 'node');
  const version = /^(\d+\.\d+\.\d+)-/.exec(imageParts(nodeImages[0]).tag ?? '')?.[1] ?? '';
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;

  it('runs in the image on an exact release of an LTS line that is still supported', () => {
    expect(nodeImages.length).toBeGreaterThan(0);
    expect(new Set(nodeImages).size).toBe(1);
    const endOfLife = NODE_LTS_END_OF_LIFE[Number(version.split('.')[0])];
    expect(endOfLife).toBeDefined();
    expect(Date.now()).toBeLessThan(Date.parse(`${endOfLife}T23:59:59Z`));
  });

  it("has the image's and the tests' Node versions inside package.json's engines", () => {
    expect(satisfies(version, engines)).toBe(true);
    expect(satisfies(process.version, engines)).toBe(true);
    expect(satisfies('21.7.0', engines)).toBe(false);
  });
});

/** How each S3 server takes the app's key pair and on which port it serves S3. */
const S3_SERVERS: Record<string, { user: string; secret: string; port: (s: Service) => number }> = {
  minio: {
    user: 'MINIO_ROOT_USER',
    secret: 'MINIO_ROOT_PASSWORD',
    port: (s) => flag(s, '--address') ?? 9000,
  },
  seaweedfs: {
    user: 'AWS_ACCESS_KEY_ID',
    secret: 'AWS_SECRET_ACCESS_KEY',
    port: (s) => flag(s, '-s3.port') ?? 8333,
  },
};

/** The port of a `--name :9000` or `-name=9000` option of a service's command. */
function flag(service: Service, name: string): number | undefined {
  const command = service.command ?? [];
  const tokens = Array.isArray(command) ? command : command.split(/\s+/);
  const at = tokens.findIndex((t) => t === name || t.startsWith(`${name}=`));
  if (at < 0) return undefined;
  const value = tokens[at] === name ? tokens[at + 1] : tokens[at].slice(name.length + 1);
  return Number(/(\d+)$/.exec(value)?.[1]);
}

describe('S3 servers (compose profiles)', () => {
  const s3Port = Number(appEnv.S3_PORT);

  it('are the optional dependencies of the app, each a profile named like its service', () => {
    const optional = Object.entries(app.depends_on ?? {}).filter(([, d]) => d.required === false);
    expect(optional.map(([name]) => name).sort()).toEqual(Object.keys(S3_SERVERS).sort());
    for (const [name, dependency] of optional) {
      expect(dependency.condition).toBe('service_healthy');
      expect(services[name].profiles).toEqual([name]);
    }
    expect(services.postgres.profiles).toBeUndefined();
    expect(app.profiles).toBeUndefined();
  });

  it.each(Object.keys(S3_SERVERS))('%s has a healthcheck, the key pair and the S3 port', (name) => {
    const service = services[name];
    const { user, secret, port } = S3_SERVERS[name];
    expect(service.healthcheck?.test?.[0]).toMatch(/^CMD(-SHELL)?$/);
    expect(service.healthcheck?.test?.length).toBeGreaterThan(1);
    expect(service.environment?.[user]).toMatch(/^\$\{S3_ACCESS_KEY:\?/);
    expect(service.environment?.[secret]).toMatch(/^\$\{S3_SECRET_KEY:\?/);
    expect(port(service)).toBe(s3Port);
    expect(services.mc.environment?.[`MC_HOST_${name}`]).toMatch(new RegExp(`@${name}:${s3Port}$`));
    expect(services.mc.depends_on?.[name]).toEqual({
      condition: 'service_healthy',
      required: false,
    });
  });

  it('are reached by the app at the server .env.example starts by default', () => {
    expect(appEnv.S3_ENDPOINT).toMatch(/^\$\{S3_ENDPOINT:\?/);
    expect(appEnv.S3_USE_SSL).toBe('false');
    expect(envExample.COMPOSE_PROFILES).toBe('minio');
    expect(envExample.S3_ENDPOINT).toBe(envExample.COMPOSE_PROFILES);
  });
});

describe('published ports', () => {
  it('publishes the public port on every address and the admin port on loopback only', () => {
    expect(appEnv).toMatchObject({ PORT: '3000', ADMIN_PORT: '3001', ADMIN_HOST: '0.0.0.0' });
    expect(app.ports).toEqual([
      '${TEAMCACHE_PORT:-3000}:3000',
      '127.0.0.1:${TEAMCACHE_ADMIN_PORT:-3001}:3001',
    ]);
  });

  it('publishes nothing of PostgreSQL, the S3 servers or the tools', () => {
    const others = Object.entries(services).filter(([name]) => name !== 'app');
    expect(others.filter(([, s]) => s.ports?.length).map(([name]) => name)).toEqual([]);
  });
});

describe('the postgres entrypoint', () => {
  const [shell, option, script] = services.postgres.entrypoint!;
  let stubs: string;
  beforeAll(() => {
    // Stands in for the image's docker-entrypoint.sh (initdb, then postgres).
    stubs = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-pg-entrypoint-'));
    const stub = path.join(stubs, 'docker-entrypoint.sh');
    fs.writeFileSync(stub, '#!/bin/sh\necho "initdb then $*"\n', { mode: 0o755 });
  });
  afterAll(() => fs.rmSync(stubs, { recursive: true, force: true }));

  // Compose turns `$$` into `$` before the container sees it.
  const run = (password: string) =>
    spawnSync(shell, [option, script.split('$$').join('$')], {
      env: { PATH: `${stubs}:${process.env.PATH}`, POSTGRES_PASSWORD: password },
      encoding: 'utf8',
    });

  it('refuses the .env.example placeholder before the volume is initialised', () => {
    const result = run(envExample.POSTGRES_PASSWORD);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('POSTGRES_PASSWORD in .env is still the change-me placeholder');
    expect(result.stdout).not.toContain('initdb');
  });

  it("hands a real password on to the image's entrypoint", () => {
    const result = run('s3cr3tpassw0rd');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('initdb then postgres');
  });
});

/** Code of a Markdown file: lines of fenced blocks (continuations joined), inline code spans. */
function codeOf(markdown: string): string[] {
  const code: string[] = [];
  let fenced = false;
  for (const line of markdown.replace(/\\\n\s*/g, ' ').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    else if (fenced) code.push(line);
    else code.push(...[...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
  }
  return code;
}

/** Compose's own options that take a value, before the subcommand. */
const GLOBAL_VALUE_OPTIONS = ['-f', '--file', '-p', '--project-name', '--profile', '--env-file'];
/** Subcommand options that take a value. */
const VALUE_OPTIONS = [
  '-e',
  '--env',
  '-u',
  '--user',
  '-w',
  '--workdir',
  '--entrypoint',
  '--name',
  '-v',
  '--volume',
  '-p',
  '--publish',
  '-l',
  '--label',
  '--index',
  '-n',
  '--tail',
  '--since',
  '--until',
  '-t',
  '--timeout',
  '--scale',
  '--pull',
  '--wait-timeout',
  '--exit-code-from',
  '--format',
  '--filter',
  '--status',
  '-s',
  '--signal',
];
/** Subcommands whose first operand is a service and the rest its command. */
const ONE_SERVICE = ['exec', 'run', 'attach', 'port'];
/** Subcommands whose operands are all services. */
const SERVICES = [
  'up',
  'down',
  'start',
  'stop',
  'restart',
  'logs',
  'ps',
  'pull',
  'build',
  'rm',
  'create',
  'kill',
  'pause',
  'unpause',
  'top',
  'images',
  'events',
  'wait',
  'watch',
];

/** Profiles and services a `docker compose ...` command names (COMPOSE_PROFILES=x counts too). */
function composeUses(code: string): { profiles: string[]; services: string[] }[] {
  const uses: { profiles: string[]; services: string[] }[] = [];
  for (const segment of code.split(/[|;&()]/)) {
    const at = /\bdocker[ -]compose(?![\w.-])/.exec(segment);
    if (!at) continue;
    const before = segment.slice(0, at.index);
    const profiles = [...before.matchAll(/COMPOSE_PROFILES=(\S+)/g)].flatMap((m) =>
      m[1].split(','),
    );
    const services: string[] = [];
    const rest = segment.slice(at.index + at[0].length).split(/[<>#]/)[0];
    const words = rest.split(/\s+/).filter(Boolean);
    let i = 0;
    for (; words[i]?.startsWith('-'); i++) {
      const [name, inline] = words[i].split('=');
      const value = inline ?? (GLOBAL_VALUE_OPTIONS.includes(name) ? words[++i] : undefined);
      if (name === '--profile' && value) profiles.push(value);
    }
    const subcommand = words[i++] ?? '';
    const takesServices = ONE_SERVICE.includes(subcommand) || SERVICES.includes(subcommand);
    for (; takesServices && i < words.length; i++) {
      const [name, inline] = words[i].split('=');
      if (name.startsWith('-')) {
        const value = inline ?? (VALUE_OPTIONS.includes(name) ? words[++i] : undefined);
        if (name === '--scale' && value) services.push(value.split('=')[0]);
        continue;
      }
      if (/^[\w.-]+$/.test(words[i])) services.push(words[i]);
      if (ONE_SERVICE.includes(subcommand)) break;
    }
    uses.push({ profiles, services });
  }
  return uses;
}

describe('docs', () => {
  const docs = fs.existsSync(path.join(ROOT, 'docs'))
    ? fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))
    : [];
  const files = ['README.md', ...docs.map((f) => `docs/${f}`)];
  const profiles = new Set(Object.values(services).flatMap((s) => s.profiles ?? []));

  it('reads the services and profiles of a command past its options', () => {
    const code = 'T=$(docker compose --profile tools -f x.yml run --rm -e A=1 mc mirror a b) && ';
    expect(
      composeUses(`${code}COMPOSE_PROFILES=s3 docker compose logs -f --tail 5 app db`),
    ).toEqual([
      { profiles: ['tools'], services: ['mc'] },
      { profiles: ['s3'], services: ['app', 'db'] },
    ]);
    expect(composeUses('docker compose up -d --scale app=3 # note')).toEqual([
      { profiles: [], services: ['app'] },
    ]);
    expect(composeUses('see docker-compose.yml')).toEqual([]);
  });

  it.each(files)('%s names only services and profiles of docker-compose.yml', (file) => {
    const uses = codeOf(read(file)).flatMap(composeUses);
    expect(uses.flatMap((use) => use.services).filter((s) => !services[s])).toEqual([]);
    expect(uses.flatMap((use) => use.profiles).filter((p) => !profiles.has(p))).toEqual([]);
  });

  it('finds the compose commands they document', () => {
    const uses = files.flatMap((file) => codeOf(read(file)).flatMap(composeUses));
    expect(uses.flatMap((use) => use.services)).toEqual(expect.arrayContaining(['app']));
  });
});
