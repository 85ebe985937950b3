import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertBlobKey,
  assertByteCount,
  BlobDownload,
  BlobStat,
  BlobStorage,
  downloadOfBytes,
  ExpectedLength,
  InvalidBlobKeyError,
  ListedBlob,
  StorageUnavailableError,
} from './blob-storage';
import { isTeamId, parseBlobKey } from './blob-keys';
import { MeasuredBody, type StoredBody } from './measured-body';

/** Large reads: artifacts are megabytes, and fewer, bigger chunks cost less per byte. */
const READ_CHUNK_BYTES = 1024 * 1024;
const WRITE_BUFFER_BYTES = 1024 * 1024;
/**
 * Bodies up to this size are read whole, at once: most turbo artifacts are a few KiB, and one
 * read plus close costs a fraction of a file stream's read, end-of-file read and teardown.
 */
const WHOLE_READ_MAX_BYTES = 256 * 1024;

/** Errors that mean "the disk cannot take or serve data now", not "this request is wrong". */
const UNAVAILABLE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EMFILE', 'ENFILE']);

/**
 * Blobs as files under DATA_DIR/blobs: `<root>/<teamId>/<hash>.<version>` (blob-keys.ts). Uploads go to `<root>/.tmp`
 * (same filesystem, so the final rename is atomic; keys never start with a dot, so it cannot
 * clash with a team folder) and are renamed into place only once whole and synced.
 */
export class FsStorage implements BlobStorage {
  readonly driver = 'fs' as const;
  readonly tempDir: string;

  constructor(private readonly root: string) {
    this.tempDir = path.join(root, '.tmp');
  }

  async ping(): Promise<void> {
    try {
      await fs.promises.mkdir(this.tempDir, { recursive: true });
      await fs.promises.access(this.root, fs.constants.W_OK);
    } catch (error) {
      throw new StorageUnavailableError(`blob directory is not writable: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  async put(key: string, body: Readable, expected: ExpectedLength): Promise<StoredBody> {
    assertBlobKey(key);
    assertByteCount(expected);
    const finalPath = this.pathOf(key);
    // Folders first: a full or read-only disk fails here, before the body is touched.
    await fs.promises.mkdir(this.tempDir, { recursive: true }).catch(rethrowMapped);
    await fs.promises.mkdir(path.dirname(finalPath), { recursive: true }).catch(rethrowMapped);
    const tempPath = path.join(this.tempDir, `${randomUUID()}.part`);
    const measured = new MeasuredBody(expected);
    try {
      await pipeline(
        body,
        measured,
        // `flush` fsyncs before close: the rename below must never publish unwritten blocks.
        // Socket chunks are 64 KiB: while one write is in flight the next ones gather, and go
        // down in a single writev of up to WRITE_BUFFER_BYTES.
        fs.createWriteStream(tempPath, {
          flags: 'wx',
          flush: true,
          highWaterMark: WRITE_BUFFER_BYTES,
        }),
      );
      await fs.promises.rename(tempPath, finalPath);
      return measured.stored();
    } catch (error) {
      // Keep the original error: a failed cleanup is left to sweepStaleTempFiles.
      await fs.promises.rm(tempPath, { force: true }).catch(() => undefined);
      rethrowMapped(error);
    }
  }

  async get(key: string): Promise<BlobDownload | null> {
    assertBlobKey(key);
    let opened: { fd: number; stat: fs.Stats };
    try {
      opened = await openForReading(this.pathOf(key));
    } catch (error) {
      if (isNotFound(error)) return null;
      return rethrowMapped(error);
    }
    // Size from the open descriptor: a concurrent put renames a new file over the path, but
    // this descriptor keeps the old one, so size and bytes always describe the same body.
    const { fd, stat } = opened;
    const version = versionOf(stat);
    if (stat.size <= WHOLE_READ_MAX_BYTES) {
      return downloadOfBytes(await readWhole(fd, stat.size).catch(rethrowMapped), version);
    }
    // Chunks of 1 MiB; the descriptor-based stream reads with plain fs.read, cheaper per chunk
    // than a FileHandle's.
    const stream = fs.createReadStream('', {
      fd,
      start: 0,
      highWaterMark: READ_CHUNK_BYTES,
      autoClose: true,
    });
    return { size: stat.size, version, stream };
  }

  async stat(key: string): Promise<BlobStat | null> {
    assertBlobKey(key);
    try {
      const stat = await fs.promises.stat(this.pathOf(key));
      if (!stat.isFile()) return null;
      return { size: stat.size, version: versionOf(stat) };
    } catch (error) {
      if (isNotFound(error)) return null;
      return rethrowMapped(error);
    }
  }

  async delete(key: string): Promise<void> {
    assertBlobKey(key);
    try {
      await fs.promises.unlink(this.pathOf(key));
    } catch (error) {
      if (!isNotFound(error)) rethrowMapped(error);
    }
  }

  async listTeams(): Promise<string[]> {
    const names = await readdirOrEmpty(this.root);
    return names.filter(isTeamId);
  }

  /** Each file's size and mtime by one stat, in readdir's order. */
  async *listTeamBlobs(teamId: string): AsyncIterable<ListedBlob> {
    if (!isTeamId(teamId)) throw new InvalidBlobKeyError(teamId);
    const dir = path.join(this.root, teamId);
    const names = await readdirOrEmpty(dir);
    for (const name of names) {
      const key = `${teamId}/${name}`;
      if (!parseBlobKey(key)) continue;
      const stat = await fs.promises.stat(path.join(dir, name)).catch((error: unknown) => {
        if (isNotFound(error)) return null;
        return rethrowMapped(error);
      });
      if (!stat?.isFile()) continue;
      yield { key, size: stat.size, modifiedAt: new Date(stat.mtimeMs) };
    }
  }

  /**
   * Removes upload temp files untouched for `olderThanMinutes` (left by a crash or kill -9; a
   * failed put removes its own). An active upload keeps writing, so its mtime stays fresh.
   * Returns how many files were removed.
   */
  async sweepStaleTempFiles(olderThanMinutes: number): Promise<number> {
    const cutoff = Date.now() - olderThanMinutes * 60_000;
    let names: string[];
    try {
      names = await fs.promises.readdir(this.tempDir);
    } catch (error) {
      if (isNotFound(error)) return 0;
      return rethrowMapped(error);
    }
    let removed = 0;
    for (const name of names) {
      const file = path.join(this.tempDir, name);
      const stat = await fs.promises.stat(file).catch(() => null);
      if (!stat?.isFile() || stat.mtimeMs >= cutoff) continue;
      await fs.promises.rm(file, { force: true });
      removed += 1;
    }
    return removed;
  }

  sweepStaleUploads(olderThanMinutes: number): Promise<number> {
    return this.sweepStaleTempFiles(olderThanMinutes);
  }

  protected pathOf(key: string): string {
    return path.join(this.root, key);
  }
}

/** The names in `dir`, or none when it does not exist. */
async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.promises.readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    return rethrowMapped(error);
  }
}

/** open + fstat as one promise (a hit is two cheap syscalls; promise plumbing dominated them). */
function openForReading(file: string): Promise<{ fd: number; stat: fs.Stats }> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (openError, fd) => {
      if (openError) return reject(openError);
      fs.fstat(fd, (statError, stat) => {
        if (!statError && stat.isFile()) return resolve({ fd, stat });
        fs.close(fd, () => reject(statError ?? notAFile(file)));
      });
    });
  });
}

/** All `size` bytes of `fd` from offset 0, then the descriptor closed (also on failure). */
function readWhole(fd: number, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  return new Promise<Buffer>((resolve, reject) => {
    const finish = (error: Error | null) =>
      fs.close(fd, () => (error ? reject(error) : resolve(bytes)));
    const readFrom = (offset: number) => {
      if (offset === size) return finish(null);
      fs.read(fd, bytes, offset, size - offset, offset, (error, read) => {
        if (error) return finish(error);
        // The file shrank under us (not by our renames, which swap whole files): a short body.
        if (read === 0) return finish(new Error(`blob ended after ${offset} of ${size} bytes`));
        readFrom(offset + read);
      });
    };
    readFrom(0);
  });
}

/** Something else where a blob file belongs (a folder left by hand): there is no blob. */
function notAFile(file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${file} is not a file`), { code: 'ENOENT' });
}

/** A rename over the path makes a new inode; an in-place rewrite changes the mtime or size. */
function versionOf(stat: fs.Stats): string {
  return `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function rethrowMapped(error: unknown): never {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code && UNAVAILABLE_CODES.has(code)) {
    throw new StorageUnavailableError(`blob storage failed: ${messageOf(error)}`, { cause: error });
  }
  throw error;
}
