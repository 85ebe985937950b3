import { Controller, Get, Param, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppException } from '../common/app-exception';
import { AdminUiAssets, ASSET_FILES } from './admin-ui.assets';
import { AdminUiEnabledGuard } from './admin-ui-enabled.guard';

/** Only these resources: a script here can fetch the admin API, and nothing else. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * GET /admin/ui: the read-only usage page for admins (static HTML and JS, chart.js from
 * node_modules). The page itself holds no data: it asks for the admin token and calls the
 * admin API with it. Like the admin API it does not exist (404) without ADMIN_TOKEN.
 */
@Controller('admin/ui')
@UseGuards(AdminUiEnabledGuard)
@ApiTags('admin')
export class AdminUiController {
  constructor(private readonly assets: AdminUiAssets) {}

  @Get()
  @ApiOperation({ summary: 'the admin usage page (HTML; 404 without ADMIN_TOKEN)' })
  @ApiProduces('text/html')
  page(@Res() res: Response) {
    this.send(res, 'index.html');
  }

  @Get('assets/:file')
  @ApiOperation({ summary: "the admin page's scripts and styles, chart.js included" })
  asset(@Param('file') file: string, @Res() res: Response) {
    if (file === 'index.html' || !ASSET_FILES.includes(file)) {
      throw AppException.notFound(`no asset ${JSON.stringify(file)}`);
    }
    this.send(res, file);
  }

  private send(res: Response, file: string) {
    const asset = this.assets.get(file);
    res
      .status(200)
      .set({
        'content-type': asset.contentType,
        'cache-control': 'no-cache',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      })
      .send(asset.body);
  }
}
