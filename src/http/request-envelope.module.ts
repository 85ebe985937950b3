import { Module } from '@nestjs/common';
import { AdminListener } from './admin-listener';
import { RequestEnvelope } from './request-envelope';

/**
 * The HTTP edge every request passes (RequestEnvelope), installed on the server by app.factory,
 * and the admin listener of ADMIN_PORT.
 */
@Module({
  providers: [RequestEnvelope, AdminListener],
  exports: [RequestEnvelope, AdminListener],
})
export class RequestEnvelopeModule {}
