import { Command } from 'commander';
import * as fs from 'node:fs';
import { loadConfig } from '../config/app-config';
import { withAdminContext } from './admin-context';
import { printJson } from './output';

/** Runs a command with the trust policies service, loaded only when a command runs. */
async function withPolicies<T>(
  run: (policies: import('../oidc/trust-policies.service').TrustPoliciesService) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const [{ TrustPoliciesModule }, { TrustPoliciesService }] = await Promise.all([
    import('../oidc/oidc.module'),
    import('../oidc/trust-policies.service'),
  ]);
  return withAdminContext(config, (app) => run(app.get(TrustPoliciesService)), [
    TrustPoliciesModule,
  ]);
}

/** The policy JSON of `add`: --json text, or --file (a path, or - for stdin). */
function policyJson(options: { json?: string; file?: string }): unknown {
  if ((options.json === undefined) === (options.file === undefined)) {
    throw new Error("give the policy as --json '{...}' or --file <path> (- for stdin)");
  }
  const text =
    options.json ?? fs.readFileSync(options.file === '-' ? 0 : (options.file as string), 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`the policy is not valid JSON: ${(error as Error).message}`);
  }
}

/** `teamcache oidc policies add|list|remove`: the trust policies of the CI token exchange. */
export function oidcCommand(): Command {
  const oidc = new Command('oidc').description(
    "CI identity: exchange a CI job's OIDC token for a short-lived cache token",
  );
  const policies = oidc
    .command('policies')
    .description('trust policies: which CI job tokens a team exchanges, for what');
  policies
    .command('add')
    .description('add a trust policy (JSON: docs/oidc.md); prints it with its id')
    .requiredOption('--team <team>', 'slug or team id')
    .option('--json <policy>', 'the policy as JSON')
    .option('--file <path>', 'a file holding the policy JSON (- for stdin)')
    .action(async (options: { team: string; json?: string; file?: string }) => {
      const body = policyJson(options);
      printJson(await withPolicies((service) => service.add(options.team, body)));
    });
  policies
    .command('list')
    .description("list a team's trust policies")
    .requiredOption('--team <team>', 'slug or team id')
    .action(async (options: { team: string }) =>
      printJson(await withPolicies((service) => service.list(options.team))),
    );
  policies
    .command('remove <policyId>')
    .description('remove a trust policy (tokens it issued stay valid until they expire)')
    .action(async (policyId: string) =>
      printJson(await withPolicies((service) => service.remove(policyId))),
    );
  return oidc;
}
