import type { INestApplicationContext } from '@nestjs/common';
import { Command } from 'commander';
import { loadConfig } from '../config/app-config';
import { parseDuration } from '../tokens/duration';
import { withAdminContext } from './admin-context';
import { printJson } from './output';
import { withTrust } from './trust.command';

/** The artifact store, retention services and blob storage, loaded only when a command runs. */
async function artifactServices() {
  const [{ ArtifactStoreModule }, { ArtifactVerifier }, retention, purge, storage] =
    await Promise.all([
      import('../artifacts/artifact-store.module'),
      import('../artifacts/artifact-verifier'),
      import('../retention/retention.module'),
      import('../retention/artifact-purge.service'),
      import('../storage/storage.module'),
    ]);
  return {
    modules: [storage.StorageModule, retention.RetentionModule, ArtifactStoreModule],
    ArtifactVerifier,
    ArtifactPurgeService: purge.ArtifactPurgeService,
  };
}

type ArtifactServices = Awaited<ReturnType<typeof artifactServices>>;

/** Runs a command with the artifact services. */
async function withArtifacts<T>(
  run: (app: INestApplicationContext, services: ArtifactServices) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const services = await artifactServices();
  return withAdminContext(config, (app) => run(app, services), services.modules);
}

interface PurgeOptions {
  team: string;
  olderThan?: string;
  writer?: string;
  scope?: string;
  hash?: string;
}

/** `teamcache artifacts show|list|purge|verify`. */
export function artifactsCommand(): Command {
  const artifacts = new Command('artifacts').description("manage a team's stored artifacts");
  artifacts
    .command('purge')
    .description("delete a team's artifacts (metadata first, then blobs); prints what went")
    .requiredOption('--team <team>', 'slug or team id')
    .option('--older-than <duration>', 'only those uploaded more than e.g. 12h, 7d, 4w ago')
    .option(
      '--writer <tokenId>',
      "only the versions this token wrote (a leaked token's writes; not later re-uploads by others)",
    )
    .option('--scope <scope>', '"trusted" or an overlay scope: only that namespace')
    .option('--hash <hash>', "only this hash's versions (e.g. a broken immutable trusted entry)")
    .action(async (options: PurgeOptions) => {
      if (options.olderThan !== undefined) parseDuration(options.olderThan);
      const filter = { writer: options.writer, scope: options.scope, hash: options.hash };
      printJson(
        await withArtifacts((app, s) =>
          app.get(s.ArtifactPurgeService).purge(options.team, options.olderThan, filter),
        ),
      );
    });
  artifacts
    .command('show <hash>')
    .description(
      'every stored version of a hash (trusted, and per overlay scope), who wrote it and who reads it',
    )
    .requiredOption('--team <team>', 'slug or team id')
    .action(async (hash: string, options: { team: string }) =>
      printJson(
        await withTrust((app, s) => app.get(s.ArtifactAuditService).show(options.team, hash)),
      ),
    );
  artifacts
    .command('list')
    .description("a page of a team's stored versions with their writers, by writer or namespace")
    .requiredOption('--team <team>', 'slug or team id')
    .option('--writer <tokenId>', 'only the versions this token wrote')
    .option('--scope <scope>', '"trusted" or an overlay scope: only that namespace')
    .option('--limit <n>', 'versions per page, 1 to 1000 (default 100)')
    .option('--after <cursor>', 'the `next` of the previous page')
    .action(
      async (options: {
        team: string;
        writer?: string;
        scope?: string;
        limit?: string;
        after?: string;
      }) => {
        const limit =
          options.limit === undefined
            ? undefined
            : /^\d{1,4}$/.test(options.limit)
              ? Number(options.limit)
              : NaN;
        printJson(
          await withTrust((app, s) =>
            app.get(s.ArtifactAuditService).list(options.team, { ...options, limit }),
          ),
        );
      },
    );
  artifacts
    .command('verify')
    .description(
      're-read stored artifacts and compare each with the sha256 recorded at upload; prints a JSON report and exits 1 if any differ',
    )
    .option('--team <team>', 'slug or team id (default: every team)')
    .option(
      '--repair',
      'drop what differs or is missing, so it becomes a miss and is uploaded again',
    )
    .action(async (options: { team?: string; repair?: boolean }) => {
      const report = await withArtifacts((app, s) => app.get(s.ArtifactVerifier).verify(options));
      printJson(report);
      if (report.findings.some((finding) => !finding.repaired)) process.exitCode = 1;
    });
  return artifacts;
}
