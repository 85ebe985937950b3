import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import request from 'supertest';
import { artifactBlobKey, parseBlobKey } from '../../src/storage/blob-keys';
import { RetentionSweeper } from '../../src/retention/retention-sweeper';
import { BLOB_STORAGE, BlobStorage } from '../../src/storage/blob-storage';
import type { TestApp } from './test-app';

export interface TurboEvent {
  sessionId: string;
  source: 'LOCAL' | 'REMOTE';
  event: 'HIT' | 'MISS';
  hash: string;
  duration: number;
}

/** One usage event as turbo reports it (a miss has duration 0). */
export const turboEvent = (
  source: TurboEvent['source'],
  event: TurboEvent['event'],
  hash: string,
  duration = 0,
  sessionId: string = randomUUID(),
): TurboEvent => ({ sessionId, source, event, hash, duration });

/** POST /v8/artifacts/events, as turbo batches them (client CI header optional). */
export function postEvents(
  server: Server,
  token: string,
  events: TurboEvent[],
  headers: Record<string, string> = {},
) {
  return request(server)
    .post('/v8/artifacts/events')
    .set('Authorization', `Bearer ${token}`)
    .set(headers)
    .send(events);
}

/** Pretends an artifact was last read `days` ago (and, optionally, uploaded then too). */
export async function ageArtifact(
  t: TestApp,
  teamId: string,
  hash: string,
  days: number,
  options: { uploaded?: boolean } = {},
): Promise<void> {
  const column = options.uploaded
    ? 'last_accessed_at = $3, created_at = $3'
    : 'last_accessed_at = $3';
  await t.dataSource.query(`UPDATE artifacts SET ${column} WHERE team_id = $1 AND hash = $2`, [
    teamId,
    hash,
    new Date(Date.now() - days * 86_400_000),
  ]);
}

/** The storage key of the body an artifact's row names now (each upload has a key of its own). */
export async function currentBlobKey(t: TestApp, teamId: string, hash: string): Promise<string> {
  const [row] = await t.dataSource.query(
    'SELECT blob_version FROM artifacts WHERE team_id = $1 AND hash = $2',
    [teamId, hash],
  );
  if (!row) throw new Error(`no artifact row for ${teamId}/${hash}`);
  return artifactBlobKey(teamId, hash, row.blob_version);
}

/** The keys storage holds for a team (every version of every hash), sorted. */
export async function storedBlobKeys(t: TestApp, teamId: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const blob of t.app.get<BlobStorage>(BLOB_STORAGE).listTeamBlobs(teamId)) {
    keys.push(blob.key);
  }
  return keys.sort();
}

/** Whether storage holds any body (any version) of `hash` for the team. */
export async function blobExists(t: TestApp, teamId: string, hash: string): Promise<boolean> {
  const keys = await storedBlobKeys(t, teamId);
  return keys.some((key) => parseBlobKey(key)?.hash === hash);
}

/** The hashes of a team's artifact rows, sorted. */
export async function storedHashes(t: TestApp, teamId: string): Promise<string[]> {
  const rows: { hash: string }[] = await t.dataSource.query(
    'SELECT hash FROM artifacts WHERE team_id = $1 ORDER BY hash',
    [teamId],
  );
  return rows.map((row) => row.hash);
}

export function sweep(t: TestApp) {
  return t.app.get(RetentionSweeper).sweep();
}
