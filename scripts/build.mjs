#!/usr/bin/env node
// Compiles src/ and migrations/ into dist/ (tsc -p tsconfig.build.json), from scratch so that no
// output of a deleted source survives (a stale compiled migration would still run).
//
// `--if-stale`: compile only when the inputs changed since dist/ was last built, so that
// `npm ci && npm start` or `npm ci && npm test` compiles once (in `prepare`) and a restart
// compiles not at all. The fingerprint is a sha256 over every input's path and content, kept in
// dist/.build-fingerprint; adding, editing or deleting a source changes it.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-fingerprint');
const INPUT_DIRS = ['src', 'migrations'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function* filesUnder(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else if (entry.isFile() && entry.name.endsWith('.ts')) yield path;
  }
}

function fingerprint() {
  const files = INPUT_DIRS.flatMap((dir) => [...filesUnder(join(ROOT, dir))])
    .concat(INPUT_FILES.map((file) => join(ROOT, file)).filter((file) => existsSync(file)))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const ifStale = process.argv.includes('--if-stale');
const current = fingerprint();
if (ifStale && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === current) {
  process.exit(0);
}

const started = Date.now();
rmSync(DIST, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(STAMP, `${current}\n`);
process.stderr.write(
  `teamcache: compiled dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
