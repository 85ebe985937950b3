import type { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { parseRetentionSetting } from '../teams/retention-policy';
import { parseOverlayScope } from '../trust/trust-tier';
import { withAdminContext } from './admin-context';
import { printJson } from './output';

/** The trust-tier administration services with blob storage (purges delete blobs), loaded on use. */
export async function trustServices() {
  const [trustAdmin, audit, scopes, settings, retention, purge, storage, store] = await Promise.all(
    [
      import('../trust-admin/trust-admin.module'),
      import('../trust-admin/artifact-audit.service'),
      import('../trust-admin/overlay-scopes.service'),
      import('../trust-admin/tier-settings.service'),
      import('../retention/retention.module'),
      import('../retention/artifact-purge.service'),
      import('../storage/storage.module'),
      import('../artifacts/artifact-store.module'),
    ],
  );
  return {
    modules: [
      storage.StorageModule,
      store.ArtifactStoreModule,
      retention.RetentionModule,
      trustAdmin.TrustAdminModule,
    ],
    ArtifactAuditService: audit.ArtifactAuditService,
    OverlayScopesService: scopes.OverlayScopesService,
    TierSettingsService: settings.TierSettingsService,
    ArtifactPurgeService: purge.ArtifactPurgeService,
  };
}

type TrustServices = Awaited<ReturnType<typeof trustServices>>;

/** Runs a command with the trust-tier services. */
export async function withTrust<T>(
  run: (app: INestApplicationContext, services: TrustServices) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const services = await trustServices();
  return withAdminContext(config, (app) => run(app, services), services.modules);
}

/** `teamcache scopes list|delete`: the overlays of untrusted tokens. */
export function scopesCommand(): Command {
  const scopes = new Command('scopes').description(
    "a team's overlay scopes: where its untrusted tokens write",
  );
  scopes
    .command('list')
    .description("list a team's scopes with their untrusted tokens and stored entries")
    .requiredOption('--team <team>', 'slug or team id')
    .action(async (options: { team: string }) =>
      printJson(await withTrust((app, s) => app.get(s.OverlayScopesService).list(options.team))),
    );
  scopes
    .command('delete <scope>')
    .description("revoke a scope's tokens, then delete its entries (rows, then blobs)")
    .requiredOption('--team <team>', 'slug or team id')
    .action(async (scope: string, options: { team: string }) => {
      parseOverlayScope(scope);
      printJson(
        await withTrust((app, s) => app.get(s.OverlayScopesService).delete(options.team, scope)),
      );
    });
  return scopes;
}

interface TierOptions {
  overlayRetentionDays?: string;
  trustedEntries?: string;
}

/** `teams tiers <team>` and `teams set-tiers <team>`, added to `teamcache teams`. */
export function addTeamTierCommands(teams: Command): void {
  teams
    .command('tiers <team>')
    .description("show a team's trust-tier settings (overlay retention, trusted entries) as JSON")
    .action(async (team: string) =>
      printJson(await withTrust((app, s) => app.get(s.TierSettingsService).get(team))),
    );
  teams
    .command('set-tiers <team>')
    .description("change a team's trust-tier settings; prints the result")
    .option(
      '--overlay-retention-days <days>',
      'delete untrusted overlay entries unused for N days (capped by the retention), or "default"',
    )
    .option(
      '--trusted-entries <mode>',
      'replaceable (a later trusted upload replaces) or immutable (the first trusted write wins)',
    )
    .action(async (team: string, options: TierOptions) => {
      if (options.overlayRetentionDays === undefined && options.trustedEntries === undefined) {
        throw new Error('give --overlay-retention-days and/or --trusted-entries');
      }
      if (options.overlayRetentionDays !== undefined) {
        parseRetentionSetting(options.overlayRetentionDays);
      }
      const change = {
        overlayRetentionDays: options.overlayRetentionDays,
        trustedEntries: options.trustedEntries,
      };
      printJson(await withTrust((app, s) => app.get(s.TierSettingsService).set(team, change)));
    });
}
