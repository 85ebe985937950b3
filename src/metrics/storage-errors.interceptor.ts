import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { catchError, Observable, throwError } from 'rxjs';
import { StorageUnavailableError } from '../storage/blob-storage';
import { MetricsService } from './metrics.service';

/** Counts handler failures caused by the blob storage being down (the filter answers 503). */
@Injectable()
export class StorageErrorsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      catchError((error: unknown) => {
        if (error instanceof StorageUnavailableError) this.metrics.recordStorageError();
        return throwError(() => error);
      }),
    );
  }
}
