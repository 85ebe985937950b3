import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, AppConfig } from '../config/app-config';

export interface Asset {
  contentType: string;
  body: Buffer;
}

const PAGE_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'admin-ui.js': 'text/javascript; charset=utf-8',
  'admin-ui-artifacts.js': 'text/javascript; charset=utf-8',
  'admin-ui-oidc.js': 'text/javascript; charset=utf-8',
  'admin-ui.css': 'text/css; charset=utf-8',
};

export const ASSET_FILES = [...Object.keys(PAGE_FILES), 'chart.umd.js'];

/**
 * The page's files, read once at start when ADMIN_TOKEN is set: from src/admin-ui/public (not
 * compiled, so the built server reads them from the source tree too) and chart.js's UMD bundle
 * from node_modules. Missing files are logged and make the page a 503, never stop the cache.
 */
@Injectable()
export class AdminUiAssets implements OnModuleInit {
  private readonly logger = new Logger(AdminUiAssets.name);
  private readonly assets = new Map<string, Asset>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.adminToken) return;
    try {
      const dir = publicDir();
      for (const [file, contentType] of Object.entries(PAGE_FILES)) {
        const body = await fs.promises.readFile(path.join(dir, file));
        this.assets.set(file, { contentType, body });
      }
      this.assets.set('chart.umd.js', {
        contentType: 'text/javascript; charset=utf-8',
        body: await fs.promises.readFile(chartJsBundle()),
      });
    } catch (error) {
      this.assets.clear();
      this.logger.error(`admin UI disabled: ${(error as Error).message}`);
    }
  }

  get(file: string): Asset {
    const asset = this.assets.get(file);
    if (!asset) throw AppException.unavailable('the admin UI files are not installed');
    return asset;
  }
}

/** src/admin-ui/public, from src/admin-ui (ts-node, jest) or dist/src/admin-ui (built). */
function publicDir(): string {
  const candidates = [
    path.join(__dirname, 'public'),
    path.resolve(__dirname, '../../../src/admin-ui/public'),
  ];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
  if (!found) throw new Error(`admin UI files not found in ${candidates.join(' or ')}`);
  return found;
}

/** chart.js exports only its entry points; its minified UMD bundle sits next to them. */
function chartJsBundle(): string {
  return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}
