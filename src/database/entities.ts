/** Every TypeORM entity of the app; a new entity is added here and gets a migration. */
import type { EntitySchema, MixedList } from 'typeorm';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';

export const ENTITIES: MixedList<(new () => unknown) | EntitySchema> = [
  Team,
  Token,
];
