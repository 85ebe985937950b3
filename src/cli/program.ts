import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { migrate } from './migrate.command';
import { artifactsCommand } from './artifacts.command';
import { statsCommand } from './stats.command';
import { teamsCommand } from './teams.command';
import { tokensCommand } from './tokens.command';
import { scopesCommand } from './trust.command';
import { oidcCommand } from './oidc.command';

/** The `teamcache` command: each subcommand validates the environment first. */
export function buildProgram(): Command {
  const program = new Command('teamcache')
    .description('Self-hosted, multi-tenant remote cache for Turborepo')
    .showHelpAfterError();

  program
    .command('serve')
    .description('serve the cache API (runs pending migrations first)')
    // Loaded on demand: the HTTP app's modules would slow every other command.
    .action(async () => (await import('../main')).serve(loadConfig()));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(() => migrate(loadConfig()));

  program.addCommand(teamsCommand());
  program.addCommand(tokensCommand());
  program.addCommand(artifactsCommand());
  program.addCommand(scopesCommand());
  program.addCommand(oidcCommand());
  program.addCommand(statsCommand());

  return program;
}
