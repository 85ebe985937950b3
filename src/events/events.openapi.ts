import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ARTIFACT_HASH } from '../artifacts/artifact-hash.pipe';
import { MAX_EVENTS_PER_BATCH } from './usage-event.dto';

/** OpenAPI documentation of POST /v8/artifacts/events. */
export const ApiRecordEvents = () =>
  applyDecorators(
    ApiOperation({ summary: "record turbo's cache HIT/MISS events (statistics)" }),
    ApiBody({
      schema: {
        type: 'array',
        maxItems: MAX_EVENTS_PER_BATCH,
        description:
          'Unknown fields are ignored; a malformed event is skipped (and counted) while the ' +
          'rest of the batch is stored. Not an array, or too many items: 400.',
        items: {
          type: 'object',
          additionalProperties: true,
          required: ['sessionId', 'source', 'event', 'hash'],
          properties: {
            sessionId: { type: 'string', format: 'uuid' },
            source: { type: 'string', enum: ['LOCAL', 'REMOTE'] },
            event: { type: 'string', enum: ['HIT', 'MISS'] },
            hash: { type: 'string', pattern: ARTIFACT_HASH.source },
            duration: { type: 'integer', minimum: 0 },
          },
        },
      },
    }),
    ApiResponse({ status: 200, description: 'recorded', schema: { type: 'object' } }),
  );
