import type { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { parseQuotaSetting, parseRetentionSetting } from '../teams/retention-policy';
import { withAdminContext } from './admin-context';
import { printJson } from './output';

/**
 * The retention services and blob storage (to delete blobs), loaded only when a command runs:
 * storage brings the S3 client, which `teams list` and the others need not load.
 */
async function retentionServices() {
  const [{ RetentionModule }, { TeamDeletionService }, { TeamPolicyService }, { StorageModule }] =
    await Promise.all([
      import('../retention/retention.module'),
      import('../retention/team-deletion.service'),
      import('../retention/team-policy.service'),
      import('../storage/storage.module'),
    ]);
  return { modules: [StorageModule, RetentionModule], TeamDeletionService, TeamPolicyService };
}

type RetentionServices = Awaited<ReturnType<typeof retentionServices>>;

/** Runs a command with the retention services. */
async function withRetention<T>(
  run: (app: INestApplicationContext, services: RetentionServices) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const services = await retentionServices();
  return withAdminContext(config, (app) => run(app, services), services.modules);
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
      printJson(await withRetention((app, s) => app.get(s.TeamPolicyService).get(team))),
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
      printJson(await withRetention((app, s) => app.get(s.TeamPolicyService).set(team, change)));
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
      printJson(await withRetention((app, s) => app.get(s.TeamDeletionService).delete(team)));
    });
}
