import type { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { parseQuotaSetting, parseRetentionSetting } from '../teams/retention-policy';
import { RetentionModule } from '../retention/retention.module';
import { TeamDeletionService } from '../retention/team-deletion.service';
import { TeamPolicyService } from '../retention/team-policy.service';
import { StorageModule } from '../storage/storage.module';
import { withAdminContext } from './admin-context';
import { printJson } from './output';

/** Runs a command with the retention services (and blob storage, to delete blobs). */
function withRetention<T>(run: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  return withAdminContext(loadConfig(), run, [StorageModule, RetentionModule]);
}

interface PolicyOptions {
  retentionDays?: string;
  quota?: string;
}

/** `teams policy`, `teams set-policy` and `teams delete`, added to `teamcache teams`. */
export function addTeamRetentionCommands(teams: Command): void {
  teams
    .command('policy <team>')
    .description("show a team's retention and quota (and where each comes from) as JSON")
    .action(async (team: string) =>
      printJson(await withRetention((app) => app.get(TeamPolicyService).get(team))),
    );

  teams
    .command('set-policy <team>')
    .description("override a team's retention or quota; prints the resulting policy")
    .option('--retention-days <days>', 'delete artifacts not accessed for N days, or "default"')
    .option('--quota <size>', 'max stored bytes: e.g. 10GiB or 500MB, "none" or "default"')
    .action(async (team: string, options: PolicyOptions) => {
      if (options.retentionDays === undefined && options.quota === undefined) {
        throw new Error('give --retention-days and/or --quota');
      }
      // Refuse a bad value before starting anything.
      if (options.retentionDays !== undefined) parseRetentionSetting(options.retentionDays);
      if (options.quota !== undefined) parseQuotaSetting(options.quota);
      const change = { retentionDays: options.retentionDays, quota: options.quota };
      printJson(await withRetention((app) => app.get(TeamPolicyService).set(team, change)));
    });

  teams
    .command('delete <team>')
    .description('delete a team for good: its tokens, artifacts (and blobs) and usage history')
    .option('--yes', 'confirm: there is no undo')
    .action(async (team: string, options: { yes?: boolean }) => {
      if (!options.yes) {
        throw new Error(
          `not deleting team ${JSON.stringify(team)} without --yes: its tokens, artifacts and usage history go for good`,
        );
      }
      printJson(await withRetention((app) => app.get(TeamDeletionService).delete(team)));
    });
}
