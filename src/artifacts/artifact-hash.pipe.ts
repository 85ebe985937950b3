import { Injectable, PipeTransform } from '@nestjs/common';
import { AppException } from '../common/app-exception';
import { PROTOCOL_LIMITS } from './protocol-limits';

/** protocol.md: hex, at least one character; capped so it stays a sane object key. */
export const ARTIFACT_HASH = new RegExp(`^[a-fA-F0-9]{1,${PROTOCOL_LIMITS.hashLength}}$`);

export function isArtifactHash(value: unknown): value is string {
  return typeof value === 'string' && ARTIFACT_HASH.test(value);
}

/** Rejects anything but a hex hash with 400 before any I/O; hashes are stored lower-cased. */
@Injectable()
export class ArtifactHashPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isArtifactHash(value)) {
      throw AppException.badRequest(
        `hash must be 1 to ${PROTOCOL_LIMITS.hashLength} hexadecimal characters`,
      );
    }
    return value.toLowerCase();
  }
}
