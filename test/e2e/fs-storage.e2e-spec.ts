import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StorageUnavailableError } from '../../src/storage/blob-storage';
import { FsStorage } from '../../src/storage/fs-storage';
import { GeneratedBody } from '../support/blob-bodies';

describe('FsStorage specifics', () => {
  let dir: string;
  let storage: FsStorage;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'teamcache-fs-'));
    storage = new FsStorage(path.join(dir, 'blobs'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sweeps only temp files untouched for longer than the given minutes', async () => {
    expect(await storage.sweepStaleTempFiles(60)).toBe(0);
    fs.mkdirSync(storage.tempDir, { recursive: true });
    const stale = path.join(storage.tempDir, 'stale.part');
    const fresh = path.join(storage.tempDir, 'fresh.part');
    fs.writeFileSync(stale, 'x');
    fs.writeFileSync(fresh, 'y');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(stale, twoHoursAgo, twoHoursAgo);

    expect(await storage.sweepStaleTempFiles(60)).toBe(1);
    expect(fs.readdirSync(storage.tempDir)).toEqual(['fresh.part']);
  });

  it('stores a blob at <root>/<teamId>/<hash> and reads it in 1 MiB chunks', async () => {
    await storage.put('team_abc/00ff', new GeneratedBody(3 * 1024 * 1024, 1), 3 * 1024 * 1024);
    expect(fs.statSync(path.join(dir, 'blobs', 'team_abc', '00ff')).size).toBe(3 * 1024 * 1024);
    const blob = await storage.get('team_abc/00ff');
    expect(blob!.stream.readableHighWaterMark).toBe(1024 * 1024);
    blob!.stream.destroy();
  });

  it('rejects ping, and put before reading the body, when the root cannot be created', async () => {
    const file = path.join(dir, 'not-a-directory');
    fs.writeFileSync(file, '');
    const broken = new FsStorage(path.join(file, 'blobs'));
    await expect(broken.ping()).rejects.toBeInstanceOf(StorageUnavailableError);
    const body = new GeneratedBody(100, 2);
    await expect(broken.put('team_abc/00ff', body, 100)).rejects.toThrow(/ENOTDIR/);
    expect(body.pulled).toBe(0);
  });
});
