import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { BLOB_ADAPTER, BLOB_STORAGE, type BlobStorage } from '../storage/blob-storage';
import { artifactBlobKey, parseBlobKey } from '../storage/blob-keys';
import { TeamsService } from '../teams/teams.service';
import { ArtifactsRepository } from './artifacts.repository';
import { BlobGarbageRepository } from './blob-garbage.repository';
import { KeyFilter } from './key-filter';

/** Keys checked against the rows per query, and garbage bodies deleted per batch. */
const BATCH = 1_000;
const DELETE_CONCURRENCY = 8;

export interface CollectionReport {
  /** Bodies replaced by a later upload (or whose delete had failed), deleted after the grace. */
  superseded: number;
  /** Bodies no row names and blob_garbage does not list, older than the grace, deleted. */
  orphans: number;
  /** Rows whose body storage does not have, deleted. */
  vanishedRows: number;
  /** Deletes that failed (retried at the next collection). */
  failures: number;
}

/**
 * Collects what the one-commit-point design leaves behind, on fs and S3 alike (run by
 * the retention sweeper under the sweep lock, or directly by tests):
 * - superseded bodies: each upload has its own key, so a replaced upload's body stays until
 *   blob_garbage says it was replaced longer than the grace period ago (config.blobs.graceMs,
 *   twice the commit deadline): a reader that picked the old key just before is still served;
 * - orphans: bodies no row names (an upload whose commit failed or never came, a team deleted
 *   while uploading), deleted once written longer ago than the grace period; an upload still
 *   on its way to its commit is younger than that, and one older is refused at its commit;
 * - rows whose body storage does not have, deleted only when the row is older than the listing
 *   that missed its body and a direct stat confirms it (the evidence), and only if the row
 *   still names that body.
 */
@Injectable()
export class BlobCollector {
  private readonly logger = new Logger(BlobCollector.name);
  private readonly graceMs: number;
  private seed = 0;

  constructor(
    private readonly teams: TeamsService,
    private readonly rows: ArtifactsRepository,
    private readonly garbage: BlobGarbageRepository,
    @Inject(BLOB_STORAGE) private readonly storage: BlobStorage,
    @Inject(BLOB_ADAPTER) private readonly adapter: BlobStorage,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.graceMs = config.blobs.graceMs;
  }

  /** One full collection: superseded bodies, then every team's orphans and vanished rows. */
  async collect(): Promise<CollectionReport> {
    const report: CollectionReport = { superseded: 0, orphans: 0, vanishedRows: 0, failures: 0 };
    await this.collectSuperseded(report);
    const teams = await this.teams.list();
    const teamIds = new Set([...teams.map((t) => t.id), ...(await this.adapter.listTeams())]);
    this.seed += 1;
    for (const teamId of teamIds) await this.reconcileTeam(teamId, report);
    return report;
  }

  private async collectSuperseded(report: CollectionReport): Promise<void> {
    for (;;) {
      const keys = await this.garbage.due(this.graceMs, BATCH);
      if (keys.length === 0) return;
      const deleted = await this.deleteAll(keys, report);
      report.superseded += deleted.length;
      await this.garbage.remove(deleted);
      if (deleted.length < keys.length) return;
    }
  }

  private async reconcileTeam(teamId: string, report: CollectionReport): Promise<void> {
    // Rows written before this instant had their bodies stored before the listing began.
    const listingStartedAt = await this.rows.now();
    const { artifacts } = await this.rows.usageOfTeam(teamId);
    const listed = new KeyFilter(Math.max(artifacts, 1_000), this.seed);
    const oldEnough = Date.now() - this.graceMs;
    let candidates: string[] = [];
    for await (const blob of this.adapter.listTeamBlobs(teamId)) {
      listed.add(blob.key);
      if (blob.modifiedAt.getTime() < oldEnough) candidates.push(blob.key);
      if (candidates.length >= BATCH) {
        await this.collectOrphans(teamId, candidates, report);
        candidates = [];
      }
    }
    await this.collectOrphans(teamId, candidates, report);
    await this.collectVanishedRows(teamId, listed, listingStartedAt, report);
  }

  private async collectOrphans(teamId: string, keys: string[], report: CollectionReport) {
    if (keys.length === 0) return;
    const named = await this.rows.namedAmong(teamId, keys);
    const scheduled = await this.garbage.scheduledAmong(keys);
    const orphans = keys.filter((key) => !named.has(key) && !scheduled.has(key));
    if (orphans.length === 0) return;
    const deleted = await this.deleteAll(orphans, report);
    report.orphans += deleted.length;
    if (deleted.length > 0) this.logger.log(`deleted ${deleted.length} orphan blobs of ${teamId}`);
  }

  private async collectVanishedRows(
    teamId: string,
    listed: KeyFilter,
    listingStartedAt: string,
    report: CollectionReport,
  ): Promise<void> {
    let after: { teamId: string; hash: string; namespace: string } | undefined;
    for (;;) {
      const page = await this.rows.pageRows(teamId, after, BATCH, listingStartedAt);
      if (page.length === 0) return;
      after = page[page.length - 1];
      for (const row of page) {
        const key = artifactBlobKey(row.teamId, row.hash, row.version);
        if (listed.has(key) || (await this.adapter.stat(key))) continue;
        const parts = parseBlobKey(key)!;
        if (await this.rows.dropRowNaming(teamId, parts.hash, parts.version, listingStartedAt)) {
          report.vanishedRows += 1;
          this.logger.warn(`blob ${key} is missing from storage; dropped its row`);
        }
      }
    }
  }

  /** Deletes `keys` (through BLOB_STORAGE, so this process's memory forgets them too). */
  private async deleteAll(keys: string[], report: CollectionReport): Promise<string[]> {
    const queue = [...keys];
    const deleted: string[] = [];
    const worker = async () => {
      for (let key = queue.shift(); key; key = queue.shift()) {
        try {
          await this.storage.delete(key);
          deleted.push(key);
        } catch (error) {
          report.failures += 1;
          this.logger.warn(`could not delete blob ${key}: ${(error as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
    return deleted;
  }
}
