import type { Listening } from './app.factory';
import type { AppConfig } from './config/app-config';

/** One start-up log line: a message and the fields that go with it. */
export interface ReportLine {
  msg: string;
  fields: Record<string, unknown>;
}

/**
 * What `teamcache serve` says once it answers (after migrations, with every listener bound): a
 * single ready line with the URL turbo uses, where the admin API and UI are (or that they are
 * off, and how to turn them on), and, while no team exists, how to get from here to a turbo run.
 * `teamCount` is the number of teams in the database.
 */
export function readyReport(
  config: Pick<AppConfig, 'adminToken' | 'storage'>,
  listening: Listening,
  teamCount: number,
): ReportLine[] {
  const storage = config.storage.driver === 's3' ? `s3 bucket ${config.storage.bucket}` : 'fs';
  const lines: ReportLine[] = [
    {
      msg: `ready: cache API on ${listening.url} (storage: ${storage})`,
      fields: { url: listening.url, adminUrl: listening.adminUrl, storage: config.storage.driver },
    },
  ];
  if (config.adminToken) {
    const adminUi = `${listening.adminUrl ?? listening.url}/admin/ui`;
    lines.push({ msg: `admin API and UI on ${adminUi}`, fields: { adminUi } });
  } else {
    lines.push({
      msg: 'admin API and UI are off: set ADMIN_TOKEN (at least 32 characters) to turn them on',
      fields: {},
    });
  }
  if (teamCount === 0) {
    lines.push({
      msg:
        'no team yet: `teamcache teams create my-team`, then `teamcache tokens issue --team my-team ' +
        '--name laptop` (npx teamcache in a clone, docker compose exec app teamcache under ' +
        `compose), then run turbo with TURBO_API=${listening.url} TURBO_TEAM=my-team ` +
        'TURBO_TOKEN=<the token>',
      fields: {},
    });
  }
  return lines;
}
