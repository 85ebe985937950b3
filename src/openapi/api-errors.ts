import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';

class ErrorDetail {
  @ApiProperty({ example: 'unauthorized' })
  code: string;

  @ApiProperty({ example: 'missing or invalid token' })
  message: string;
}

/** The error body of every error: the spec's flat shape and turbo's wrapped one at once. */
export class ErrorBodySchema {
  @ApiProperty({
    example: 'unauthorized',
    description:
      'bad_request, unauthorized, forbidden, not_found, conflict, length_required, ' +
      'payload_too_large, too_many_requests, remote_caching_paused, unavailable, internal_error',
  })
  code: string;

  @ApiProperty({ example: 'missing or invalid token' })
  message: string;

  @ApiProperty({ type: ErrorDetail })
  error: ErrorDetail;
}

const MEANING: Record<number, string> = {
  400: 'bad input',
  401: 'missing, invalid, expired or revoked token',
  403: 'not allowed (another team, read-only token, paused team)',
  404: 'not found',
  409: 'conflict',
  411: 'Content-Length missing',
  413: 'larger than MAX_ARTIFACT_SIZE',
  429: 'rate limited; see Retry-After',
  503: 'a dependency (PostgreSQL, blob storage) is down',
};

/** Documents error statuses, each with the common error body. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: MEANING[status] ?? 'error', type: ErrorBodySchema }),
    ),
  );
}
