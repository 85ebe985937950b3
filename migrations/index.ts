/** Every migration, oldest first. A file here is never edited after it lands. */
import type { MixedList } from 'typeorm';
import { TeamsAndTokens1795669500000 } from './1795669500000-TeamsAndTokens';

export const MIGRATIONS: MixedList<new () => unknown> = [
  TeamsAndTokens1795669500000,
];
