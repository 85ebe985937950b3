import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { BLOB_ADAPTER, BLOB_STORAGE, BlobStorage } from './blob-storage';
import { CachedBlobStorage, DEFAULT_BLOB_CACHE } from './cached-blob-storage';
import { FsStorage } from './fs-storage';
import { S3Storage } from './s3-storage';
import { StorageSweeper } from './storage-sweeper';

/**
 * Chooses the storage adapter once, from config. The factory only constructs: S3Storage checks
 * (and creates) its bucket in onModuleInit, where a failure is an ordinary rejected app.init().
 */
@Global()
@Module({
  providers: [
    {
      provide: BLOB_ADAPTER,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): BlobStorage =>
        config.storage.driver === 'fs'
          ? new FsStorage(config.storage.root)
          : new S3Storage(config.storage),
    },
    // What the app uses: the adapter with small bodies kept in memory. Nest runs the adapter's
    // own lifecycle hooks (S3Storage creates its bucket) on the BLOB_ADAPTER instance.
    {
      provide: BLOB_STORAGE,
      inject: [BLOB_ADAPTER, APP_CONFIG],
      useFactory: (adapter: BlobStorage, config: AppConfig): BlobStorage =>
        new CachedBlobStorage(adapter, {
          ...DEFAULT_BLOB_CACHE,
          maxBytes: config.memoryCacheBytes,
        }),
    },
    StorageSweeper,
  ],
  exports: [BLOB_STORAGE, BLOB_ADAPTER],
})
export class StorageModule {}
