import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { type CacheTool, toolOfHashSql } from '../storage/blob-keys';
import { SqlParams } from './sql-params';
import { planRead, type ReadPlan, type TimeRange } from './stats-read-plan';
import { type StatsPeriod, utcDays } from './stats-period';

/** Stored artifacts of one upload day, client CI ('' = none) and tool: a count and bytes. */
export interface ArtifactDayRow {
  day: string;
  clientCi: string;
  tool: CacheTool;
  artifacts: number;
  bytes: number;
}

/** The raw rows a ReadPlan needs: its `raw` ranges' rows and its `subtract` ranges' rows. */
export interface PlannedRows {
  plan: ReadPlan;
  inside: ArtifactDayRow[];
  outside: ArtifactDayRow[];
}

/** What the artifact metadata says about a period, read in one snapshot. */
export interface ArtifactsInPeriod {
  /** Every artifact stored now, by upload day, client CI and tool (day totals and deltas). */
  stored: ArtifactDayRow[];
  /** The period's uploads: its plan and raw rows. */
  period: PlannedRows;
  /** When the period starts within a day: that day's uploads before it (for storedBefore). */
  before: PlannedRows | null;
}

const num = (value: unknown) => Number(value ?? 0);

function dayRow(r: Record<string, unknown>): ArtifactDayRow {
  return {
    day: String(r.day),
    clientCi: String(r.client_ci),
    tool: r.tool as CacheTool,
    artifacts: num(r.artifacts),
    bytes: num(r.bytes),
  };
}

/**
 * The statistics' reads of artifact metadata: artifact_day_totals plus the deltas not folded
 * in yet (together always a count of the artifacts rows), and the raw rows of the period's
 * partial days through IDX_artifacts_team_created; in one REPEATABLE READ transaction, since
 * UsageRollupJob moves deltas into the totals in one.
 */
@Injectable()
export class ArtifactStatsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The stored artifacts of `teamId` by day, and the raw parts that `period` needs. */
  async read(teamId: string, period: StatsPeriod): Promise<ArtifactsInPeriod> {
    // Artifact rows are never pruned: every partial day can be read raw or subtracted.
    const context = { now: new Date(), rawKeptFrom: null };
    const firstDayStart = new Date(`${utcDays(period)[0]}T00:00:00Z`);
    const plans = [planRead(period, context)];
    if (period.from > firstDayStart) {
      plans.push(planRead({ from: firstDayStart, to: period.from }, context));
    }
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const stored: Record<string, unknown>[] = await manager.query(
        `SELECT day::text AS day, client_ci, tool, sum(artifacts) AS artifacts, sum(bytes) AS bytes
           FROM (SELECT day, client_ci, tool, artifacts, bytes FROM artifact_day_totals
                  WHERE team_id = $1
                 UNION ALL
                 SELECT day, client_ci, tool, artifacts, bytes FROM artifact_day_deltas
                  WHERE team_id = $1) AS parts
          GROUP BY 1, 2, 3
         HAVING sum(artifacts) <> 0 OR sum(bytes) <> 0`,
        [teamId],
      );
      const planned = await this.rawRows(manager, teamId, plans);
      return { stored: stored.map(dayRow), period: planned[0], before: planned[1] ?? null };
    });
  }

  /** The size of the trusted artifact of each of `hashes` that is stored (by hash). */
  async trustedSizes(teamId: string, hashes: string[]): Promise<Map<string, number>> {
    if (hashes.length === 0) return new Map();
    const rows: { hash: string; size: string }[] = await this.dataSource.query(
      `SELECT hash, size FROM artifacts
        WHERE team_id = $1 AND overlay_scope = '' AND hash = ANY($2::varchar[])`,
      [teamId, hashes],
    );
    return new Map(rows.map((r) => [r.hash, Number(r.size)]));
  }

  /** The raw artifacts rows of every plan's `raw` and `subtract` ranges, in one statement. */
  private async rawRows(
    manager: EntityManager,
    teamId: string,
    plans: ReadPlan[],
  ): Promise<PlannedRows[]> {
    const pieces: { plan: number; inside: boolean; range: TimeRange }[] = plans.flatMap(
      (plan, i) => [
        ...plan.raw.map((range) => ({ plan: i, inside: true, range })),
        ...plan.subtract.map(({ range }) => ({ plan: i, inside: false, range })),
      ],
    );
    const result = plans.map((plan): PlannedRows => ({ plan, inside: [], outside: [] }));
    if (pieces.length === 0) return result;
    const p = new SqlParams();
    const team = p.add(teamId);
    const parts = pieces.map(
      ({ range }, i) => `
        SELECT ${i} AS piece, (created_at AT TIME ZONE 'UTC')::date::text AS day,
               COALESCE(client_ci, '') AS client_ci, ${toolOfHashSql('hash')} AS tool,
               count(*) AS artifacts, COALESCE(sum(size), 0) AS bytes
          FROM artifacts
         WHERE team_id = ${team} AND created_at >= ${p.add(range.from, 'timestamptz')}
           AND created_at < ${p.add(range.to, 'timestamptz')}
         GROUP BY 2, 3, 4`,
    );
    const rows: Record<string, unknown>[] = await manager.query(
      parts.join(' UNION ALL '),
      p.values,
    );
    for (const row of rows) {
      const piece = pieces[num(row.piece)];
      const into = result[piece.plan];
      (piece.inside ? into.inside : into.outside).push(dayRow(row));
    }
    return result;
  }
}
