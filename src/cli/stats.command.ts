import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { parsePeriod } from '../stats/stats-period';
import { withAdminContext } from './admin-context';
import { printJson } from './output';
import { formatStatsReport } from './stats-report';

/** `teamcache stats <team>`. */
export function statsCommand(): Command {
  return new Command('stats')
    .argument('<team>', 'slug or team id')
    .description(
      "a team's cache usage: hits, misses, time saved, storage, by tool (turbo, nx), top artifacts, clients",
    )
    .option('--from <date>', 'start, an ISO date or date-time (default: 30 days before --to)')
    .option('--to <date>', 'end, an ISO date (that whole day) or date-time (default: now)')
    .option('--json', 'print the full statistics (with the daily series) as JSON')
    .action(async (team: string, options: { from?: string; to?: string; json?: boolean }) => {
      parsePeriod(options.from, options.to);
      const config = loadConfig();
      // Loaded here, not at the top: storage brings the S3 client, which other commands skip.
      const [{ StatsModule }, { StatsService }, { StorageModule }] = await Promise.all([
        import('../stats/stats.module'),
        import('../stats/stats.service'),
        import('../storage/storage.module'),
      ]);
      const stats = await withAdminContext(
        config,
        (app) => app.get(StatsService).teamStats(team, options.from, options.to),
        [StorageModule, StatsModule],
      );
      if (options.json) printJson(stats);
      else process.stdout.write(formatStatsReport(stats));
    });
}
