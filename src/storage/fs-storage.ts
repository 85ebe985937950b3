import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobDownload, BlobStat, BlobStorage } from './blob-storage';

/** Blobs as files under DATA_DIR/blobs. */
export class FsStorage implements BlobStorage {
  readonly driver = 'fs' as const;

  constructor(private readonly root: string) {}

  async ping(): Promise<void> {
    await fs.promises.mkdir(this.root, { recursive: true });
    await fs.promises.access(this.root, fs.constants.W_OK);
  }

  async put(_key: string, _body: Readable, _expectedBytes: number): Promise<void> {
    throw new Error('not implemented');
  }

  async get(_key: string): Promise<BlobDownload | null> {
    throw new Error('not implemented');
  }

  async stat(_key: string): Promise<BlobStat | null> {
    throw new Error('not implemented');
  }

  async delete(_key: string): Promise<void> {
    throw new Error('not implemented');
  }

  protected pathOf(key: string): string {
    return path.join(this.root, key);
  }
}
