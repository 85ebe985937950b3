import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { BLOB_STORAGE, BlobStorage } from './blob-storage';
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
      provide: BLOB_STORAGE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): BlobStorage =>
        config.storage.driver === 'fs'
          ? new FsStorage(config.storage.root)
          : new S3Storage(config.storage),
    },
    StorageSweeper,
  ],
  exports: [BLOB_STORAGE],
})
export class StorageModule {}
