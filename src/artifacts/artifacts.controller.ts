import {
  Body,
  Controller,
  Get,
  Head,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { CurrentPrincipal, type CachePrincipal } from '../auth/cache-principal';
import { CacheAuthGuard } from '../auth/cache-auth.guard';
import { RequireWrite } from '../auth/cache-auth.decorators';
import { ArrayLimitPipe } from '../common/array-limit.pipe';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { ArtifactHashPipe } from './artifact-hash.pipe';
import {
  ApiArtifactExists,
  ApiCacheRoutes,
  ApiDownloadArtifact,
  ApiQueryArtifacts,
  ApiUploadArtifact,
} from './artifacts.openapi';
import { ArtifactsService } from './artifacts.service';
import { MAX_QUERY_HASHES, QueryArtifactsDto } from './query-artifacts.dto';
import { detachedBody } from './request-body';
import { parseUploadHeaders } from './upload-headers';
import { sendArtifact } from './send-artifact';
import { CACHE_ROUTE_PREFIXES } from '../http/cache-routes';
import { strictValidation } from '../common/validation';

/** The artifact routes of the Remote Cache API (protocol.md), at /v8/artifacts and /artifacts. */
@Controller(CACHE_ROUTE_PREFIXES)
@UseGuards(CacheAuthGuard)
@ApiCacheRoutes()
export class ArtifactsController {
  constructor(
    private readonly artifacts: ArtifactsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  @Put(':hash')
  @ApiUploadArtifact()
  @RequireWrite()
  @HttpCode(202)
  async upload(
    @Param('hash', ArtifactHashPipe) hash: string,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal: CachePrincipal,
  ) {
    const meta = parseUploadHeaders(req.headers, this.config.maxArtifactSize);
    // `Expect: 100-continue` is answered only once the body is read, i.e. after every check.
    const outcome = await this.artifacts.upload(principal, hash, detachedBody(req, res), meta);
    if (outcome.discarded) this.metrics.recordDiscardedUpload(principal.teamSlug);
    else this.metrics.recordUpload(principal.teamSlug, outcome.size);
    return { urls: [`${req.baseUrl}${req.path}?teamId=${principal.teamId}`] };
  }

  @Head(':hash')
  @ApiArtifactExists()
  async exists(
    @Param('hash', ArtifactHashPipe) hash: string,
    @CurrentPrincipal() principal: CachePrincipal,
    @Res() res: Response,
  ) {
    const found = await this.artifacts.find(principal, hash, 'HEAD');
    await sendArtifact(res, 'HEAD', found, principal.teamSlug, this.metrics);
  }

  @Get(':hash')
  @ApiDownloadArtifact()
  async download(
    @Param('hash', ArtifactHashPipe) hash: string,
    @CurrentPrincipal() principal: CachePrincipal,
    @Res() res: Response,
  ) {
    const found = await this.artifacts.find(principal, hash, 'GET');
    await sendArtifact(res, 'GET', found, principal.teamSlug, this.metrics);
  }

  @Post()
  @ApiQueryArtifacts()
  @HttpCode(200)
  query(
    @Body(
      new ArrayLimitPipe(
        MAX_QUERY_HASHES,
        `hashes may list at most ${MAX_QUERY_HASHES} hashes`,
        'hashes',
      ),
      strictValidation(),
    )
    body: QueryArtifactsDto,
    @CurrentPrincipal() principal: CachePrincipal,
  ) {
    return this.artifacts.query(principal, body.hashes);
  }
}
