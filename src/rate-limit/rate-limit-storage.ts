/** The @nestjs/throttler storage (hit counters per key) that every limit of this app shares. */
export const RATE_LIMIT_STORAGE = Symbol('RATE_LIMIT_STORAGE');

/** Limits count per minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;
