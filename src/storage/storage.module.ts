import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { BLOB_STORAGE, BlobStorage } from './blob-storage';
import { FsStorage } from './fs-storage';

/** Chooses the storage adapter once, from config. */
@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORAGE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): BlobStorage => {
        if (config.storage.driver === 'fs') return new FsStorage(config.storage.root);
        throw new Error('s3 storage is not available yet');
      },
    },
  ],
  exports: [BLOB_STORAGE],
})
export class StorageModule {}
