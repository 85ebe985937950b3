/** Every migration, oldest first. A file here is never edited after it lands. */
import type { MixedList } from 'typeorm';

export const MIGRATIONS: MixedList<new () => unknown> = [];
