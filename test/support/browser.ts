/**
 * Headless Chromium for browser tests, from the project's own devDependencies: `npm ci` is all a
 * fresh machine needs. `@sparticuz/chromium` ships a headless-shell Chromium inside its tarball
 * (bin/chromium.br, brotli-compressed; no install script, no download) plus the NSS/NSPR/expat
 * libraries it links against (bin/al2023.tar.br); everything else it needs is glibc. The package's
 * own JS is ESM-only and, off AWS Lambda, neither unpacks the libraries nor versions its /tmp
 * copy, so this module unpacks the two files itself, once per version, into
 * os.tmpdir()/teamcache-chromium-<version>/{chromium,lib/}.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createBrotliDecompress } from 'node:zlib';
import { Browser, chromium } from 'playwright-core';
import { sleep } from './wait';

const execFileAsync = promisify(execFile);

/**
 * Flags for a root user on a machine with no display, no GPU and no network but loopback.
 * Without the background-networking ones Chromium keeps dialling Google's hosts and every attempt
 * is refused. No --user-data-dir: playwright-core refuses it in `args` and already starts each
 * browser on a fresh empty profile in a temp dir, removed on close.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a test waits for another jest worker that is unpacking the same version. */
const UNPACK_WAIT_MS = 120_000;

/** A Chromium ready to start. */
export interface ChromiumBinary {
  executablePath: string;
  /** Shared libraries shipped with the binary (put first on LD_LIBRARY_PATH); none for a system browser. */
  libraryDir?: string;
}

/**
 * Starts headless Chromium (see `resolveChromium` for which one). The caller closes it.
 * On the npm binary, LD_LIBRARY_PATH points at its own NSS, so the host's (if any) is not used.
 */
export async function launchBrowser(): Promise<Browser> {
  const { executablePath, libraryDir } = await resolveChromium();
  const env = libraryDir
    ? {
        ...process.env,
        LD_LIBRARY_PATH: [libraryDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      }
    : undefined;
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, env });
}

/**
 * CHROMIUM_PATH when set (e.g. /usr/bin/chromium, to compare with Debian's package), else the
 * binary of the `@sparticuz/chromium` devDependency, unpacked on first use.
 */
export async function resolveChromium(): Promise<ChromiumBinary> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!fs.existsSync(override)) throw new Error(`CHROMIUM_PATH=${override} does not exist`);
    return { executablePath: override };
  }
  return unpackPackagedChromium();
}

/**
 * The packaged Chromium under os.tmpdir()/teamcache-chromium-<version>, unpacked if missing.
 * Jest workers may get here at once: a lock file lets one unpack while the others wait, and the
 * copy is made in a staging dir renamed into place, so a dir under the final name is always
 * complete, whoever wins, even if a worker dies mid-way or two unpack after a stale lock.
 */
async function unpackPackagedChromium(): Promise<ChromiumBinary> {
  const { binDir, version } = packagedChromium();
  const cacheDir = path.join(os.tmpdir(), `teamcache-chromium-${version}`);
  const deadline = Date.now() + UNPACK_WAIT_MS;
  while (!isComplete(cacheDir)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${cacheDir}.lock`);
    const release = tryLock(`${cacheDir}.lock`);
    if (!release) {
      await sleep(250);
      continue;
    }
    try {
      if (!isComplete(cacheDir)) await unpackInto(binDir, cacheDir);
    } finally {
      release();
    }
  }
  return unpackedBinary(cacheDir);
}

function unpackedBinary(cacheDir: string): Required<ChromiumBinary> {
  return {
    executablePath: path.join(cacheDir, 'chromium'),
    libraryDir: path.join(cacheDir, 'lib'),
  };
}

function isComplete(cacheDir: string): boolean {
  const { executablePath, libraryDir } = unpackedBinary(cacheDir);
  return fs.existsSync(executablePath) && fs.existsSync(libraryDir);
}

/** `@sparticuz/chromium`'s bin/ and version; its exports map hides package.json, hence the walk up. */
function packagedChromium(): { binDir: string; version: string } {
  let root = path.dirname(require.resolve('@sparticuz/chromium'));
  for (;;) {
    const manifest = path.join(root, 'package.json');
    if (fs.existsSync(manifest)) {
      const { name, version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
        name?: string;
        version: string;
      };
      if (name === '@sparticuz/chromium') return { binDir: path.join(root, 'bin'), version };
    }
    if (path.dirname(root) === root) throw new Error('@sparticuz/chromium: package.json not found');
    root = path.dirname(root);
  }
}

/**
 * Takes the lock file (holding our pid) and returns its release, or returns undefined when a live
 * process holds it. A lock whose holder died is removed, and the caller tries again.
 */
function tryLock(lockPath: string): (() => void) | undefined {
  try {
    fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
    return () => fs.rmSync(lockPath, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number(readOrEmpty(lockPath));
  if (holder && !isAlive(holder)) fs.rmSync(lockPath, { force: true });
  return undefined;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Unpacks chromium.br and al2023.tar.br (lib/*.so) into `<cacheDir>.partial-<pid>`, then renames
 * it to `cacheDir`. Staging dirs of dead processes (a worker killed mid-way) go first: 200 MB each.
 */
async function unpackInto(binDir: string, cacheDir: string): Promise<void> {
  const prefix = `${path.basename(cacheDir)}.partial-`;
  for (const name of fs.readdirSync(path.dirname(cacheDir))) {
    if (name.startsWith(prefix) && !isAlive(Number(name.slice(prefix.length)))) {
      fs.rmSync(path.join(path.dirname(cacheDir), name), { recursive: true, force: true });
    }
  }
  const staging = `${cacheDir}.partial-${process.pid}`;
  fs.mkdirSync(staging, { mode: 0o755 });
  try {
    await Promise.all([
      pipeline(
        fs.createReadStream(path.join(binDir, 'chromium.br')),
        createBrotliDecompress(),
        fs.createWriteStream(path.join(staging, 'chromium'), { mode: 0o755 }),
      ),
      untarBrotli(path.join(binDir, 'al2023.tar.br'), staging),
    ]);
    try {
      fs.renameSync(staging, cacheDir);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      // Another worker's complete copy won the race: keep it. An incomplete one (a /tmp cleaner
      // took some files) is replaced whole.
      if (isComplete(cacheDir)) return;
      fs.rmSync(cacheDir, { recursive: true, force: true });
      fs.renameSync(staging, cacheDir);
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Unpacks a .tar.br with Node's brotli and the system tar (GNU tar is on every Debian). Through a
 * file, not a pipe: tar stops reading at the end-of-archive marker, and the zero padding still
 * being written after it then fails the pipe ("Premature close", seen in 5 of 30 runs).
 */
async function untarBrotli(archive: string, intoDir: string): Promise<void> {
  const tarFile = path.join(intoDir, path.basename(archive, '.br'));
  await pipeline(
    fs.createReadStream(archive),
    createBrotliDecompress(),
    fs.createWriteStream(tarFile),
  );
  await execFileAsync('tar', ['-x', '--no-same-owner', '-f', tarFile, '-C', intoDir]);
  fs.rmSync(tarFile);
}
