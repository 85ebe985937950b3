import { Body, Controller, Delete, Get, Param, Patch, Query, UseGuards } from '@nestjs/common';
import { AppException } from '../common/app-exception';
import { strictValidation } from '../common/validation';
import { ArtifactAuditService } from '../trust-admin/artifact-audit.service';
import { OverlayScopesService } from '../trust-admin/overlay-scopes.service';
import { TierSettingsService } from '../trust-admin/tier-settings.service';
import { ApiAdminRoutes } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';
import { UpdateTierSettingsDto } from './tiers.dto';
import {
  ApiDeleteScope,
  ApiGetTierSettings,
  ApiListArtifacts,
  ApiListScopes,
  ApiSetTierSettings,
  ApiShowArtifact,
} from './tiers.openapi';

/**
 * Trust tiers over HTTP (issue 16; `:team`: slug or id): provenance of stored versions, overlay
 * scopes, and per-team tier settings. Purges by writer or scope are POST :team/purge.
 */
@Controller('admin/teams')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminTiersController {
  constructor(
    private readonly audit: ArtifactAuditService,
    private readonly scopes: OverlayScopesService,
    private readonly settings: TierSettingsService,
  ) {}

  @Get(':team/artifacts')
  @ApiListArtifacts()
  list(
    @Param('team') team: string,
    @Query('writer') writer: unknown,
    @Query('scope') scope: unknown,
    @Query('limit') limit: unknown,
    @Query('after') after: unknown,
  ) {
    const pageSize = single('limit', limit);
    return this.audit.list(team, {
      writer: single('writer', writer),
      scope: single('scope', scope),
      limit:
        pageSize === undefined ? undefined : /^\d{1,4}$/.test(pageSize) ? Number(pageSize) : NaN,
      after: single('after', after),
    });
  }

  @Get(':team/artifacts/:hash')
  @ApiShowArtifact()
  show(@Param('team') team: string, @Param('hash') hash: string) {
    return this.audit.show(team, hash);
  }

  @Get(':team/scopes')
  @ApiListScopes()
  listScopes(@Param('team') team: string) {
    return this.scopes.list(team);
  }

  @Delete(':team/scopes/:scope')
  @ApiDeleteScope()
  deleteScope(@Param('team') team: string, @Param('scope') scope: string) {
    return this.scopes.delete(team, scope);
  }

  @Get(':team/tier-settings')
  @ApiGetTierSettings()
  tierSettings(@Param('team') team: string) {
    return this.settings.get(team);
  }

  @Patch(':team/tier-settings')
  @ApiSetTierSettings()
  setTierSettings(
    @Param('team') team: string,
    @Body(strictValidation()) body: UpdateTierSettingsDto,
  ) {
    return this.settings.set(team, body);
  }
}

/** A query parameter given at most once (`?a=1&a=2` arrives as an array: 400). */
function single(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw AppException.badRequest(`give ${name} at most once`);
  return value;
}
