import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppException } from './app-exception';

/**
 * No request of this API nests deeper than 3 levels. The validators walk parsed bodies
 * recursively, and a 50,000-deep array within the 1 MB body limit overflowed the stack (a 500).
 */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);

/**
 * body-parser's `verify` hook, run on the raw bytes before JSON.parse: refuses bodies that are
 * not UTF-8 (the only encoding RFC 8259 allows between systems, and the only one this scan
 * understands) or nest deeper than MAX_JSON_DEPTH. One pass over at most the body limit.
 */
export function guardJsonBody(
  _req: IncomingMessage,
  _res: ServerResponse,
  body: Buffer,
  encoding: string,
): void {
  if (encoding.toLowerCase() !== 'utf-8') throw AppException.badRequest('JSON must be UTF-8');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i += 1) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (OPENERS.has(byte)) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) {
        throw AppException.badRequest(`JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
      }
    } else if (CLOSERS.has(byte)) {
      depth -= 1;
    }
  }
}
