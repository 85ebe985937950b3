import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { BLOB_ADAPTER, BLOB_STORAGE, type BlobStorage } from '../storage/blob-storage';
import { artifactBlobKey } from '../storage/blob-keys';
import { TeamsService } from '../teams/teams.service';
import { ArtifactRowRef, ArtifactsRepository } from './artifacts.repository';

const PAGE = 500;

/** One artifact whose stored body is not what was uploaded. */
export interface VerifyFinding {
  team: string;
  hash: string;
  blobKey: string;
  /** `missing`: storage has no body; `size`: another length; `digest`: other bytes. */
  problem: 'missing' | 'size' | 'digest';
  /** With --repair: its row was dropped (it is a miss now) and its body deleted. */
  repaired: boolean;
}

export interface VerifyReport {
  /** Rows whose body was re-read and digested. */
  checked: number;
  ok: number;
  /** Rows from before content digests (nothing to compare with). */
  unverifiable: number;
  findings: VerifyFinding[];
}

/**
 * `teamcache artifacts verify [--team T] [--repair]`: re-reads every stored body (from storage
 * itself, never from memory), digests it and compares it with the sha256 recorded when it was
 * uploaded, to find bit rot or tampering in the bucket. With `repair`, each finding's row is
 * dropped (only if it still names that body) and then its body deleted, so the artifact becomes
 * a miss and the next build uploads it again.
 */
@Injectable()
export class ArtifactVerifier {
  constructor(
    private readonly rows: ArtifactsRepository,
    private readonly teams: TeamsService,
    @Inject(BLOB_ADAPTER) private readonly adapter: BlobStorage,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
  ) {}

  async verify(options: { team?: string; repair?: boolean } = {}): Promise<VerifyReport> {
    const teamId = options.team === undefined ? undefined : (await this.teams.get(options.team)).id;
    const report: VerifyReport = { checked: 0, ok: 0, unverifiable: 0, findings: [] };
    const evidenceAt = await this.rows.now();
    let after: { teamId: string; hash: string; namespace: string } | undefined;
    for (;;) {
      const page = await this.rows.pageRows(teamId, after, PAGE);
      if (page.length === 0) return report;
      after = page[page.length - 1];
      for (const row of page) {
        if (row.contentSha256 === null) {
          report.unverifiable += 1;
          continue;
        }
        report.checked += 1;
        const problem = await this.check(row);
        if (!problem) {
          report.ok += 1;
          continue;
        }
        const blobKey = artifactBlobKey(row.teamId, row.hash, row.version);
        const finding: VerifyFinding = {
          team: row.teamId,
          hash: row.hash,
          blobKey,
          problem,
          repaired: false,
        };
        if (options.repair) finding.repaired = await this.repair(row, blobKey, evidenceAt);
        report.findings.push(finding);
      }
    }
  }

  private async check(row: ArtifactRowRef): Promise<VerifyFinding['problem'] | null> {
    const blob = await this.adapter.get(artifactBlobKey(row.teamId, row.hash, row.version));
    if (!blob) return 'missing';
    const digest = createHash('sha256');
    let size = 0;
    for await (const chunk of blob.stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      digest.update(chunk);
    }
    if (size !== row.size) return 'size';
    return digest.digest('hex') === row.contentSha256 ? null : 'digest';
  }

  private async repair(row: ArtifactRowRef, blobKey: string, evidenceAt: string): Promise<boolean> {
    const dropped = await this.rows.dropRowNaming(row.teamId, row.hash, row.version, evidenceAt);
    // Rows first: a body is deleted only once no row names it.
    if (dropped) await this.storage.delete(blobKey);
    return dropped;
  }
}
