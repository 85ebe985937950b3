import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { artifactBlobKey, parseBlobKey } from '../storage/blob-keys';
import type { StoredBody } from '../storage/measured-body';
import type { ArtifactHeaders, CurrentArtifact } from './artifact-index.cache';
import type { UploadMetadata } from './upload-headers';
import { BlobGarbageRepository } from './blob-garbage.repository';
import { TRUSTED_NAMESPACE } from '../trust/artifact-space';

/** Runs SQL: the DataSource, or a transaction's manager, or the sweep's locked connection. */
export interface SqlExecutor {
  query(sql: string, parameters?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Rows deleted in one statement, as the removal paths need them. */
export interface DeletedArtifactRow {
  hash: string;
  size: number | string;
  blob_version: string | null;
}

/** A team's policy columns with its stored bytes (and those of one hash), for the quota. */
export interface QuotaUsageRow {
  retention_days: number | null;
  quota_bytes: string | null;
  stored: string;
  replaced: string | null;
}

/** What the query route answers for a stored hash. */
export interface ArtifactSummaryRow {
  hash: string;
  overlay_scope: string;
  size: string;
  duration_ms: number;
  tag: string | null;
  sha: string | null;
  dirty_hash: string | null;
}

/** Which rows a purge takes besides its age cut-off; each field unset = any. */
export interface RowFilter {
  /** One namespace: TRUSTED_NAMESPACE or an overlay's scope. */
  namespace?: string;
  /** The rows one token wrote. */
  writerTokenId?: string;
  /** Rows of these stored hashes only. */
  hashes?: string[];
}

/**
 * The advisory lock of commits of one hash in one namespace. The trusted namespace keeps the
 * key used before trust tiers (`<teamId>/<hash>`); an overlay's adds `@<scope>`.
 */
function commitLockKey(teamId: string, hash: string, namespace: string): string {
  return namespace === TRUSTED_NAMESPACE ? `${teamId}/${hash}` : `${teamId}/${hash}@${namespace}`;
}

/** PostgreSQL's foreign_key_violation SQLSTATE. */
const FK_VIOLATION = '23503';

/** The token an upload came from, recorded on the version it stores (provenance). */
export interface ArtifactWriter {
  tokenId: string;
  tokenName: string | null;
}

/** One upload, stored whole under its own version, ready to become the artifact's current body. */
export interface ArtifactVersionCommit {
  teamId: string;
  hash: string;
  /** Where it lands: TRUSTED_NAMESPACE or an overlay's scope. */
  namespace: string;
  version: string;
  writer: ArtifactWriter;
  stored: StoredBody;
  meta: UploadMetadata;
  /** Called just before COMMIT: throwing there rolls the commit back (the upload's deadline). */
  beforeCommit?: () => void;
  /**
   * Commit only if the artifact has no row in `namespace` yet (Nx entries and a team's immutable
   * trusted entries), else ArtifactExistsError.
   */
  ifAbsent?: boolean;
}

/** An `ifAbsent` commit found the artifact already stored: nothing was written. */
export class ArtifactExistsError extends Error {
  constructor(hash: string) {
    super(`artifact ${hash} already exists`);
    this.name = 'ArtifactExistsError';
  }
}

/** The team of an upload was deleted before its row could be written. */
export class TeamGoneError extends Error {
  constructor(teamId: string) {
    super(`team ${teamId} no longer exists`);
    this.name = 'TeamGoneError';
  }
}

/** A row as `artifacts verify` and the sweeps see it. */
export interface ArtifactRowRef {
  teamId: string;
  hash: string;
  namespace: string;
  /** null: a row from before versions (its body at `<teamId>/<hash>`). */
  version: string | null;
  size: number;
  contentSha256: string | null;
  /** created_at as PostgreSQL text (microseconds kept). */
  createdAt: string;
}

interface RowRefRecord {
  team_id: string;
  hash: string;
  overlay_scope: string;
  blob_version: string | null;
  size: string;
  content_sha256: string | null;
  created_at: string;
}

/**
 * The queries of the `artifacts` table. The commit point of an upload is `commitVersion`: until its
 * transaction commits, the new body is stored but invisible; after it, every reader that reads
 * the row gets the new body's key with the new body's headers.
 */
@Injectable()
export class ArtifactsRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly garbage: BlobGarbageRepository,
  ) {}

  /** The artifact's current body and headers in `namespace`, or null when it has no row there. */
  async findCurrent(
    teamId: string,
    hash: string,
    namespace: string,
  ): Promise<CurrentArtifact | null> {
    const rows: {
      size: string;
      duration_ms: number;
      tag: string | null;
      sha: string | null;
      dirty_hash: string | null;
      blob_version: string | null;
    }[] = await this.dataSource.query(
      `SELECT size, duration_ms, tag, sha, dirty_hash, blob_version
         FROM artifacts WHERE team_id = $1 AND hash = $2 AND overlay_scope = $3`,
      [teamId, hash, namespace],
    );
    if (rows.length === 0) return null;
    const [row] = rows;
    const headers: ArtifactHeaders = {
      durationMs: row.duration_ms,
      tag: row.tag,
      sha: row.sha,
      dirtyHash: row.dirty_hash,
    };
    return {
      namespace,
      blobKey: artifactBlobKey(teamId, hash, row.blob_version),
      size: Number(row.size),
      headers,
    };
  }

  /**
   * Makes one stored upload the artifact's current body in its namespace, in one transaction:
   * a per-artifact advisory lock orders concurrent commits of the same hash and namespace (on
   * any process), the body the row named before goes to blob_garbage, and the row is written
   * with every header of this upload and its writer. The last commit wins whole. Rows of other
   * namespaces are never touched: an overlay commit cannot create or replace a trusted row.
   * Rejects with TeamGoneError when the team was deleted.
   */
  async commitVersion(commit: ArtifactVersionCommit): Promise<void> {
    const { teamId, hash, namespace, version, stored, meta, writer } = commit;
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          commitLockKey(teamId, hash, namespace),
        ]);
        // A statement after the lock sees every commit that came before it.
        const previous: { blob_version: string | null }[] = await manager.query(
          'SELECT blob_version FROM artifacts WHERE team_id = $1 AND hash = $2 AND overlay_scope = $3',
          [teamId, hash, namespace],
        );
        if (commit.ifAbsent && previous.length > 0) throw new ArtifactExistsError(hash);
        await manager.query(
          `INSERT INTO artifacts (team_id, hash, size, duration_ms, tag, sha, dirty_hash, client_ci,
                                  client_interactive, blob_version, content_sha256, overlay_scope,
                                  writer_token_id, writer_token_name)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT (team_id, hash, overlay_scope) DO UPDATE SET
             size = EXCLUDED.size, duration_ms = EXCLUDED.duration_ms, tag = EXCLUDED.tag,
             sha = EXCLUDED.sha, dirty_hash = EXCLUDED.dirty_hash, client_ci = EXCLUDED.client_ci,
             client_interactive = EXCLUDED.client_interactive, blob_version = EXCLUDED.blob_version,
             content_sha256 = EXCLUDED.content_sha256, writer_token_id = EXCLUDED.writer_token_id,
             writer_token_name = EXCLUDED.writer_token_name, created_at = now(),
             last_accessed_at = now()`,
          [
            teamId,
            hash,
            stored.size,
            meta.durationMs,
            meta.tag,
            meta.sha,
            meta.dirtyHash,
            meta.clientCi,
            meta.clientInteractive,
            version,
            stored.sha256,
            namespace,
            writer.tokenId,
            writer.tokenName,
          ],
        );
        if (previous.length > 0) {
          await this.garbage.add(
            [artifactBlobKey(teamId, hash, previous[0].blob_version)],
            manager,
          );
        }
        commit.beforeCommit?.();
      });
    } catch (error) {
      if ((error as { driverError?: { code?: string } }).driverError?.code === FK_VIOLATION) {
        throw new TeamGoneError(teamId);
      }
      throw error;
    }
  }

  /**
   * Drops the row of a body found missing or corrupt by storage itself (never by a cache), and
   * only if the row still names that very body: a later upload's row is never touched. For a
   * row from before versions, only if it was written before `evidenceAt` (PostgreSQL time text).
   * Resolves to whether a row was deleted.
   */
  async dropRowNaming(
    teamId: string,
    hash: string,
    version: string | null,
    evidenceAt: string,
  ): Promise<boolean> {
    const result: [unknown[], number] = await this.dataSource.query(
      version === null
        ? `DELETE FROM artifacts WHERE team_id = $1 AND hash = $2 AND blob_version IS NULL
             AND created_at <= $3::timestamptz`
        : `DELETE FROM artifacts WHERE team_id = $1 AND hash = $2 AND blob_version = $3`,
      version === null ? [teamId, hash, evidenceAt] : [teamId, hash, version],
    );
    return result[1] > 0;
  }

  /** PostgreSQL's clock, as text (microseconds kept), to compare with created_at. */
  async now(): Promise<string> {
    const [row] = await this.dataSource.query('SELECT now()::text AS now');
    return row.now as string;
  }

  /**
   * A page of rows in primary-key order after `after` (when given), of one team or of all teams
   * (`teamId` undefined), written before `createdBefore` (PostgreSQL time text) when given.
   */
  async pageRows(
    teamId: string | undefined,
    after: { teamId: string; hash: string; namespace: string } | undefined,
    limit: number,
    createdBefore?: string,
  ): Promise<ArtifactRowRef[]> {
    const rows: RowRefRecord[] = await this.dataSource.query(
      `SELECT team_id, hash, overlay_scope, blob_version, size, content_sha256,
              created_at::text AS created_at
         FROM artifacts
        WHERE ($1::varchar IS NULL OR team_id = $1)
          AND ($2::varchar IS NULL
               OR (team_id, hash, overlay_scope) > ($2::varchar, $3::varchar, $6::varchar))
          AND ($5::timestamptz IS NULL OR created_at < $5::timestamptz)
        ORDER BY team_id, hash, overlay_scope
        LIMIT $4`,
      [
        teamId ?? null,
        after?.teamId ?? null,
        after?.hash ?? null,
        limit,
        createdBefore ?? null,
        after?.namespace ?? null,
      ],
    );
    return rows.map((row) => ({
      teamId: row.team_id,
      hash: row.hash,
      namespace: row.overlay_scope,
      version: row.blob_version,
      size: Number(row.size),
      contentSha256: row.content_sha256,
      createdAt: row.created_at,
    }));
  }

  /** Which of `keys` (of one team) some row names as its current body. */
  async namedAmong(teamId: string, keys: string[]): Promise<Set<string>> {
    const hashes = new Set(
      keys.map((key) => parseBlobKey(key)?.hash).filter((h) => h !== undefined),
    );
    if (hashes.size === 0) return new Set();
    const rows: { hash: string; blob_version: string | null }[] = await this.dataSource.query(
      'SELECT hash, blob_version FROM artifacts WHERE team_id = $1 AND hash = ANY($2::varchar[])',
      [teamId, [...hashes]],
    );
    return new Set(rows.map((row) => artifactBlobKey(teamId, row.hash, row.blob_version)));
  }

  /** The rows of `hashes` (lower-case) that exist in any of `namespaces`, for the query route. */
  summaries(teamId: string, hashes: string[], namespaces: string[]): Promise<ArtifactSummaryRow[]> {
    if (hashes.length === 0) return Promise.resolve([]);
    return this.dataSource.query(
      `SELECT hash, overlay_scope, size, duration_ms, tag, sha, dirty_hash FROM artifacts
        WHERE team_id = $1 AND hash = ANY($2::varchar[]) AND overlay_scope = ANY($3::varchar[])`,
      [teamId, hashes, namespaces],
    );
  }

  /** Adds downloads counted in memory: hits and the latest access per artifact, in one UPDATE. */
  async recordHits(
    batch: { teamId: string; hash: string; namespace: string; hits: number; at: Date }[],
  ) {
    await this.dataSource.query(
      `UPDATE artifacts a
          SET hit_count = a.hit_count + v.hits,
              last_accessed_at = GREATEST(a.last_accessed_at, v.at)
         FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::timestamptz[], $5::varchar[])
              AS v(team_id, hash, hits, at, overlay_scope)
        WHERE a.team_id = v.team_id AND a.hash = v.hash AND a.overlay_scope = v.overlay_scope`,
      [
        batch.map((b) => b.teamId),
        batch.map((b) => b.hash),
        batch.map((b) => b.hits),
        batch.map((b) => b.at),
        batch.map((b) => b.namespace),
      ],
    );
  }

  /** How many artifacts a team has and their stored bytes. */
  async usageOfTeam(teamId: string): Promise<{ artifacts: number; bytes: number }> {
    const [row] = await this.dataSource.query(
      'SELECT count(*) AS artifacts, COALESCE(sum(size), 0) AS bytes FROM artifacts WHERE team_id = $1',
      [teamId],
    );
    return { artifacts: Number(row.artifacts), bytes: Number(row.bytes) };
  }

  /**
   * The team's policy columns and stored bytes (every namespace: overlays count in the quota),
   * and the size `exceptHash` holds now in `namespace` (an upload replaces it); no row when the
   * team does not exist. Two index reads: the SUM over the team (index-only on
   * IDX_artifacts_team_last_access) and the replaced row by primary key.
   */
  async quotaUsage(
    teamId: string,
    exceptHash: string,
    namespace: string = TRUSTED_NAMESPACE,
  ): Promise<QuotaUsageRow | undefined> {
    const rows: QuotaUsageRow[] = await this.dataSource.query(
      `SELECT t.retention_days, t.quota_bytes,
              (SELECT COALESCE(sum(a.size), 0) FROM artifacts a WHERE a.team_id = t.id) AS stored,
              (SELECT a.size FROM artifacts a
                WHERE a.team_id = t.id AND a.hash = $2 AND a.overlay_scope = $3) AS replaced
         FROM teams t WHERE t.id = $1`,
      [teamId, exceptHash, namespace],
    );
    return rows[0];
  }

  /**
   * Deletes up to `limit` rows uploaded before `cutoff` that match `filter` (a purge: all rows,
   * one namespace's, one writer's, one hash's); returns them.
   */
  deleteUploadedBefore(
    teamId: string,
    cutoff: Date,
    limit: number,
    filter: RowFilter = {},
  ): Promise<unknown> {
    const match = `team_id = $1 AND created_at < $2
        AND ($4::varchar IS NULL OR overlay_scope = $4)
        AND ($5::uuid IS NULL OR writer_token_id = $5)
        AND ($6::varchar[] IS NULL OR hash = ANY($6::varchar[]))`;
    return this.dataSource.query(
      `DELETE FROM artifacts
          WHERE ${match}
            AND (hash, overlay_scope) IN (SELECT hash, overlay_scope FROM artifacts WHERE ${match} LIMIT $3)
          RETURNING hash, size, blob_version`,
      [
        teamId,
        cutoff,
        limit,
        filter.namespace ?? null,
        filter.writerTokenId ?? null,
        filter.hashes ?? null,
      ],
    );
  }

  /**
   * Deletes up to `limit` rows not accessed for `days`, oldest first (retention), of the trusted
   * namespace (`overlays` false) or of every overlay (true); returns them.
   */
  deleteNotAccessedFor(
    sql: SqlExecutor,
    teamId: string,
    days: number,
    limit: number,
    overlays = false,
  ) {
    const match = `team_id = $1 AND last_accessed_at < now() - make_interval(days => $2::int)
          AND (overlay_scope <> '') = $4`;
    return sql.query(
      `DELETE FROM artifacts
        WHERE ${match}
          AND (hash, overlay_scope) IN (SELECT hash, overlay_scope FROM artifacts
                        WHERE ${match} ORDER BY last_accessed_at LIMIT $3)
        RETURNING hash, size, blob_version`,
      [teamId, days, limit, overlays],
    );
  }

  /**
   * Deletes up to `limit` least recently used rows while what would remain is over
   * `quotaBytes` (eviction): one statement picks the victims with a running sum in LRU order.
   */
  deleteLeastRecentlyUsedOver(sql: SqlExecutor, teamId: string, quotaBytes: number, limit: number) {
    return sql.query(
      `WITH ranked AS (
         SELECT hash, overlay_scope, size,
                sum(size) OVER () AS stored,
                sum(size) OVER (ORDER BY last_accessed_at, hash, overlay_scope
                                ROWS UNBOUNDED PRECEDING) AS through
           FROM artifacts WHERE team_id = $1
       ), victims AS (
         SELECT hash, overlay_scope FROM ranked
          WHERE stored - (through - size) > $2 ORDER BY through LIMIT $3
       )
       DELETE FROM artifacts a USING victims v
        WHERE a.team_id = $1 AND a.hash = v.hash AND a.overlay_scope = v.overlay_scope
        RETURNING a.hash, a.size, a.blob_version`,
      [teamId, quotaBytes, limit],
    );
  }

  /** Deletes every row of a team (inside the team deletion's transaction); returns them. */
  deleteAllOfTeam(sql: SqlExecutor, teamId: string): Promise<unknown> {
    return sql.query(
      'DELETE FROM artifacts WHERE team_id = $1 RETURNING hash, size, blob_version',
      [teamId],
    );
  }
}
