import { Module } from '@nestjs/common';
import { RequestEnvelope } from './request-envelope';

/** The HTTP edge every request passes (RequestEnvelope), installed on the server by app.factory. */
@Module({
  providers: [RequestEnvelope],
  exports: [RequestEnvelope],
})
export class RequestEnvelopeModule {}
