import { randomInt } from 'node:crypto';

/** A team slug: what TURBO_TEAM holds (`?slug=`). */
export const TEAM_SLUG = /^[a-z0-9-]{1,48}$/;

/** A team id: what TURBO_TEAMID holds (`?teamId=`); turbo sends it only when it starts with team_. */
export const TEAM_ID = /^team_[A-Za-z0-9]{1,59}$/;

export const TEAM_SLUG_RULE = 'lowercase letters, digits and "-", 1 to 48 characters';

/** How an admin or a client names a team: by id or by slug (the two never look alike). */
export type TeamRef = { id: string } | { slug: string };

/** A slug or an id; null when it is neither (a slug holds no `_`, an id always does). */
export function parseTeamRef(value: string): TeamRef | null {
  if (TEAM_ID.test(value)) return { id: value };
  if (TEAM_SLUG.test(value)) return { slug: value };
  return null;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 24;

/** `team_` and 24 random base62 characters (about 143 bits), like the ids turbo users know. */
export function newTeamId(): string {
  let id = 'team_';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}
