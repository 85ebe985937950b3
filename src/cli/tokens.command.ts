import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { parseDuration } from '../tokens/duration';
import { TokensService } from '../tokens/tokens.service';
import { withAdminContext } from './admin-context';
import { printJson } from './output';
import { parseOverlayScope, TrustTier } from '../trust/trust-tier';

interface IssueOptions {
  team: string;
  name?: string;
  readOnly?: boolean;
  expiresIn?: string;
  untrusted?: boolean;
  scope?: string;
  json?: boolean;
}

function tokensService<T>(run: (tokens: TokensService) => Promise<T>): Promise<T> {
  return withAdminContext(loadConfig(), (app) => run(app.get(TokensService)));
}

/** `teamcache tokens ...`: issue prints only the token, so TOKEN=$(teamcache tokens issue ...) works. */
export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('issue, list and revoke cache tokens');

  tokens
    .command('issue')
    .description('issue a cache token for a team and print it (shown only this once)')
    .requiredOption('--team <team>', 'slug or team id')
    .option('--name <name>', 'what the token is for, e.g. ci or a laptop')
    .option('--read-only', 'the token reads but never uploads')
    .option('--expires-in <duration>', 'e.g. 30m, 12h, 90d, 1y (default: never)')
    .option(
      '--untrusted',
      'for untrusted builds (pull requests, laptops): reads trusted entries, writes only its own overlay',
    )
    .option(
      '--scope <scope>',
      'the overlay an untrusted token shares, e.g. pr-123 (default: the token alone)',
    )
    .option(
      '--json',
      'print {id, token, team, scope, expiresAt} (untrusted: with tier, overlayScope) instead of the token alone',
    )
    .action(async (options: IssueOptions) => {
      // Refuse a bad duration or scope before starting anything.
      if (options.expiresIn !== undefined) parseDuration(options.expiresIn);
      if (options.scope !== undefined) {
        if (!options.untrusted) {
          throw new Error('--scope is for untrusted tokens: add --untrusted');
        }
        parseOverlayScope(options.scope);
      }
      const issued = await tokensService((service) =>
        service.issue(options.team, {
          name: options.name,
          readOnly: options.readOnly === true,
          expiresIn: options.expiresIn,
          tier: options.untrusted ? TrustTier.Untrusted : TrustTier.Trusted,
          overlayScope: options.scope,
        }),
      );
      if (options.json) printJson(issued);
      else process.stdout.write(`${issued.token}\n`);
    });

  tokens
    .command('list')
    .description("list a team's tokens (never the token strings)")
    .requiredOption('--team <team>', 'slug or team id')
    .action(async (options: { team: string }) =>
      printJson(await tokensService((service) => service.list(options.team))),
    );

  tokens
    .command('revoke <tokenId>')
    .description('revoke a token (effective within seconds on every server)')
    .action(async (tokenId: string) =>
      printJson(await tokensService((service) => service.revoke(tokenId))),
    );
  return tokens;
}
