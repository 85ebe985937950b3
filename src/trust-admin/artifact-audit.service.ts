import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppException } from '../common/app-exception';
import {
  MAX_HASH_LENGTH,
  MAX_NX_HASH_LENGTH,
  nxStoredHash,
  toolOfStoredHash,
  type CacheTool,
} from '../storage/blob-keys';
import { TeamsService } from '../teams/teams.service';
import { locationOf, namespaceOf, visibleToOf } from '../trust/artifact-space';
import { TrustTier } from '../trust/trust-tier';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_HASH = new RegExp(`^[0-9a-fA-F]{1,${MAX_HASH_LENGTH}}$`);
const NX_HASH = new RegExp(`^[0-9]{1,${MAX_NX_HASH_LENGTH}}$`);
/** Rows per page of `list`, by default and at most. */
export const AUDIT_PAGE = { default: 100, max: 1_000 };

/** The token that wrote a stored version, as recorded when it wrote. */
export interface VersionWriter {
  /** null: written before trust tiers recorded writers. */
  tokenId: string | null;
  /** The token's name when it wrote. */
  tokenName: string | null;
  /** Derived from where the version lives: only trusted tokens write the trusted namespace. */
  tier: TrustTier;
  /** When the token was revoked, if it is; null while active or unknown. */
  revokedAt: Date | null;
}

/** One stored version of an artifact: one namespace's row (the trusted one, or an overlay's). */
export interface StoredVersion {
  tool: CacheTool;
  /** The hash as its tool knows it (an Nx hash without the stored `nx-` prefix). */
  hash: string;
  /** trusted: the team's trusted namespace; untrusted: an overlay. */
  tier: TrustTier;
  /** The overlay's scope; null in the trusted namespace. */
  scope: string | null;
  /** Who reads this version, in words. */
  visibleTo: string;
  /** Bytes. */
  size: number;
  /** sha256 of the body (hex); null for rows from before versions. */
  contentSha256: string | null;
  writer: VersionWriter;
  /** The client's `x-artifact-sha` (its git HEAD) when uploaded; null if it sent none. */
  gitSha: string | null;
  /** The CI the client reported (`x-artifact-client-ci`), null when none. */
  ci: string | null;
  storedAt: Date;
  lastAccessedAt: Date;
  hits: number;
}

export interface ArtifactVersions {
  team: string;
  slug: string;
  versions: StoredVersion[];
}

/** Filters of `list`; each unset = any. */
export interface AuditFilter {
  /** A token id: the versions it wrote. */
  writer?: string;
  /** An overlay's scope, or `trusted` for the trusted namespace. */
  scope?: string;
  /** Rows per page (1 to AUDIT_PAGE.max). */
  limit?: number;
  /** The `next` cursor of the previous page. */
  after?: string;
}

export interface AuditPage extends ArtifactVersions {
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

interface VersionRow {
  hash: string;
  overlay_scope: string;
  size: string;
  content_sha256: string | null;
  writer_token_id: string | null;
  writer_token_name: string | null;
  revoked_at: Date | null;
  sha: string | null;
  client_ci: string | null;
  created_at: Date;
  last_accessed_at: Date;
  hit_count: number;
}

const VERSION_COLUMNS = `a.hash, a.overlay_scope, a.size, a.content_sha256, a.writer_token_id,
       a.writer_token_name, t.revoked_at, a.sha, a.client_ci, a.created_at, a.last_accessed_at,
       a.hit_count`;

/**
 * Provenance of a team's artifacts (issue 16): every stored version of a hash with who wrote
 * it and who reads it (`artifacts show`), and the versions one token wrote or one overlay holds
 * (`artifacts list`). Read-only; purges are ArtifactPurgeService's.
 */
@Injectable()
export class ArtifactAuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly teams: TeamsService,
  ) {}

  /**
   * Every stored version of `hash` in the team: the trusted one first, then each overlay's, of
   * turbo and (for a decimal hash) of Nx. 400 for a malformed hash; 404 for an unknown team or
   * a hash with no stored version.
   */
  async show(teamRef: string, hash: string): Promise<ArtifactVersions> {
    if (!HEX_HASH.test(hash)) {
      throw AppException.badRequest(
        `hash must be 1 to ${MAX_HASH_LENGTH} hex digits (turbo) or up to ${MAX_NX_HASH_LENGTH} decimal digits (Nx)`,
      );
    }
    const team = await this.teams.get(teamRef);
    const stored = [hash.toLowerCase()];
    if (NX_HASH.test(hash)) stored.push(nxStoredHash(hash));
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS}
         FROM artifacts a LEFT JOIN tokens t ON t.id = a.writer_token_id
        WHERE a.team_id = $1 AND a.hash = ANY($2::varchar[])
        ORDER BY a.hash, a.overlay_scope`,
      [team.id, stored],
    );
    if (rows.length === 0) {
      throw AppException.notFound(`team ${team.slug} has no stored version of ${hash}`);
    }
    return { team: team.id, slug: team.slug, versions: rows.map(versionOf) };
  }

  /**
   * A page of the team's stored versions matching `filter`, in (hash, scope) order. 400 for a
   * malformed filter; 404 for an unknown team.
   */
  async list(teamRef: string, filter: AuditFilter = {}): Promise<AuditPage> {
    const writer = filter.writer;
    if (writer !== undefined && !UUID.test(writer)) {
      throw AppException.badRequest(
        `writer must be a token id (a UUID), got ${JSON.stringify(writer)}`,
      );
    }
    const namespace = filter.scope === undefined ? undefined : namespaceOf(filter.scope);
    const limit = filter.limit ?? AUDIT_PAGE.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_PAGE.max) {
      throw AppException.badRequest(`limit must be a whole number from 1 to ${AUDIT_PAGE.max}`);
    }
    const after = filter.after === undefined ? undefined : parseCursor(filter.after);
    const team = await this.teams.get(teamRef);
    const rows: VersionRow[] = await this.dataSource.query(
      `SELECT ${VERSION_COLUMNS}
         FROM artifacts a LEFT JOIN tokens t ON t.id = a.writer_token_id
        WHERE a.team_id = $1
          AND ($2::uuid IS NULL OR a.writer_token_id = $2)
          AND ($3::varchar IS NULL OR a.overlay_scope = $3)
          AND ($4::varchar IS NULL OR (a.hash, a.overlay_scope) > ($4::varchar, $5::varchar))
        ORDER BY a.hash, a.overlay_scope
        LIMIT $6`,
      [
        team.id,
        writer ?? null,
        namespace ?? null,
        after?.hash ?? null,
        after?.namespace ?? null,
        limit + 1,
      ],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      team: team.id,
      slug: team.slug,
      versions: page.map(versionOf),
      next: rows.length > limit ? cursorOf(last.hash, last.overlay_scope) : null,
    };
  }
}

/** A page cursor: `<stored hash>/<namespace>` (neither contains "/"). */
function cursorOf(hash: string, namespace: string): string {
  return `${hash}/${namespace}`;
}

function parseCursor(cursor: string): { hash: string; namespace: string } {
  const slash = cursor.indexOf('/');
  if (slash < 1) throw AppException.badRequest('after must be the `next` of a previous page');
  return { hash: cursor.slice(0, slash), namespace: cursor.slice(slash + 1) };
}

function versionOf(row: VersionRow): StoredVersion {
  const { tool, hash } = toolOfStoredHash(row.hash);
  const location = locationOf(row.overlay_scope);
  return {
    tool,
    hash,
    tier: location.tier,
    scope: location.scope,
    visibleTo: visibleToOf(row.overlay_scope),
    size: Number(row.size),
    contentSha256: row.content_sha256,
    writer: {
      tokenId: row.writer_token_id,
      tokenName: row.writer_token_name,
      tier: location.tier,
      revokedAt: row.revoked_at,
    },
    gitSha: row.sha,
    ci: row.client_ci,
    storedAt: row.created_at,
    lastAccessedAt: row.last_accessed_at,
    hits: row.hit_count,
  };
}
