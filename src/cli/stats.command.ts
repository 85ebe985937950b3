import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { StatsModule } from '../stats/stats.module';
import { parsePeriod } from '../stats/stats-period';
import { StatsService } from '../stats/stats.service';
import { StorageModule } from '../storage/storage.module';
import { withAdminContext } from './admin-context';
import { printJson } from './output';
import { formatStatsReport } from './stats-report';

/** `teamcache stats <team>`. */
export function statsCommand(): Command {
  return new Command('stats')
    .argument('<team>', 'slug or team id')
    .description("a team's cache usage: hits, misses, time saved, storage, top artifacts, clients")
    .option('--from <date>', 'start, an ISO date or date-time (default: 30 days before --to)')
    .option('--to <date>', 'end, an ISO date (that whole day) or date-time (default: now)')
    .option('--json', 'print the full statistics (with the daily series) as JSON')
    .action(async (team: string, options: { from?: string; to?: string; json?: boolean }) => {
      parsePeriod(options.from, options.to);
      const stats = await withAdminContext(
        loadConfig(),
        (app) => app.get(StatsService).teamStats(team, options.from, options.to),
        [StorageModule, StatsModule],
      );
      if (options.json) printJson(stats);
      else process.stdout.write(formatStatsReport(stats));
    });
}
