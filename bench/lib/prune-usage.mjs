#!/usr/bin/env node
// Runs the usage step of a build's retention sweep (UsageRetention.prune, as the sweeper calls
// it) once, in a process of its own so that its start-up does not stall the caller's loops,
// and prints its report as JSON.
//   node bench/lib/prune-usage.mjs <built checkout>   (configuration: the environment)
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataSource } from 'typeorm';

const root = path.resolve(process.argv[2]);
const dist = (file) => import(pathToFileURL(path.join(root, 'dist/src', file)).href);
const [{ loadConfig }, { withAdminContext }, { UsageRollupModule }, { UsageRetention }] =
  await Promise.all([
    dist('config/app-config.js'),
    dist('cli/admin-context.js'),
    dist('stats/usage-rollup.module.js'),
    dist('stats/usage-retention.js'),
  ]);
const report = await withAdminContext(
  loadConfig(),
  async (app) => {
    const runner = app.get(DataSource).createQueryRunner();
    await runner.connect();
    try {
      return await app.get(UsageRetention).prune(runner);
    } finally {
      await runner.release();
    }
  },
  [UsageRollupModule],
);
process.stdout.write(`${JSON.stringify(report)}\n`);
