import type { ArtifactHeaders } from './artifact-index.cache';
import { artifactResponseHeaders } from './upload-headers';

/** The message of every artifact miss (404). */
export const NOT_FOUND = 'no such artifact';

/** The headers of a GET or HEAD hit. */
export function binaryHeaders(size: number, meta: ArtifactHeaders): Record<string, string> {
  return {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
    ...artifactResponseHeaders(meta),
  };
}
