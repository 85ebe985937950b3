import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { TeamsService } from '../teams/teams.service';
import { withAdminContext } from './admin-context';
import { printJson } from './output';
import { addTeamRetentionCommands } from './retention.command';
import { addTeamTierCommands } from './trust.command';

type TeamAction = 'pause' | 'resume' | 'rotateKey';

function teamsService<T>(run: (teams: TeamsService) => Promise<T>): Promise<void> {
  return withAdminContext(loadConfig(), async (app) => printJson(await run(app.get(TeamsService))));
}

/** `teamcache teams ...`: each prints the team(s) as JSON on stdout. */
export function teamsCommand(): Command {
  const teams = new Command('teams').description(
    'create, list, pause, resume, rotate keys of, set policies for and delete teams',
  );

  teams
    .command('create <slug>')
    .description('create a team (slug: lowercase letters, digits and "-", 1 to 48 characters)')
    .option('--name <name>', 'display name (default: the slug)')
    .action((slug: string, options: { name?: string }) =>
      teamsService((service) => service.create({ slug, name: options.name })),
    );

  teams
    .command('list')
    .description('list every team')
    .action(() => teamsService((service) => service.list()));

  const actions: [string, TeamAction, string][] = [
    [
      'pause',
      'pause',
      'stop serving a team: its reads and uploads answer 403 remote_caching_paused',
    ],
    ['resume', 'resume', 'serve a paused team again'],
    ['rotate-key', 'rotateKey', "change a team's signing key: voids every token of the team"],
  ];
  for (const [name, method, description] of actions) {
    teams
      .command(`${name} <team>`)
      .description(`${description} (<team>: slug or team id)`)
      .action((team: string) => teamsService((service) => service[method](team)));
  }
  addTeamRetentionCommands(teams);
  addTeamTierCommands(teams);
  return teams;
}
