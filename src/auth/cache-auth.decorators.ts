import { SetMetadata } from '@nestjs/common';

export const REQUIRE_WRITE = 'teamcache:require-write';
export const ALLOW_PAUSED_TEAM = 'teamcache:allow-paused-team';

/** The handler changes the cache (an upload): read-only tokens get 403 forbidden. */
export const RequireWrite = () => SetMetadata(REQUIRE_WRITE, true);

/** The handler also serves a paused team (the status route reports `paused`). */
export const AllowPausedTeam = () => SetMetadata(ALLOW_PAUSED_TEAM, true);
