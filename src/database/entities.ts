/** Every TypeORM entity of the app; a new entity is added here and gets a migration. */
import type { EntitySchema, MixedList } from 'typeorm';

export const ENTITIES: MixedList<(new () => unknown) | EntitySchema> = [];
