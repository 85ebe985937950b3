import { PROTOCOL_LIMITS } from './protocol-limits';
import { ArrayMaxSize, IsArray, Matches } from 'class-validator';
import { ARTIFACT_HASH } from './artifact-hash.pipe';

export const MAX_QUERY_HASHES = PROTOCOL_LIMITS.queryHashes;

export class QueryArtifactsDto {
  @IsArray({ message: 'hashes must be an array of artifact hashes' })
  @ArrayMaxSize(MAX_QUERY_HASHES, { message: `hashes may list at most ${MAX_QUERY_HASHES} hashes` })
  @Matches(ARTIFACT_HASH, {
    each: true,
    message: 'every hash must be 1 to 128 hexadecimal characters',
  })
  hashes: string[];
}
