import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { BLOB_STORAGE, BlobStorage } from '../storage/blob-storage';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class StorageHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
  ) {}

  async pingCheck(key: string) {
    const indicator = this.indicators.check(key);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.storage.ping(), timeout]);
      return indicator.up({ driver: this.storage.driver });
    } catch (error) {
      return indicator.down({ driver: this.storage.driver, message: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }
}
