import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { strictValidation } from '../common/validation';
import { ArtifactPurgeService } from '../retention/artifact-purge.service';
import { TeamDeletionService } from '../retention/team-deletion.service';
import { TeamPolicyService } from '../retention/team-policy.service';
import { ApiAdminRoutes } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';
import { PurgeArtifactsDto, UpdatePolicyDto } from './retention.dto';
import { ApiDeleteTeam, ApiGetPolicy, ApiPurge, ApiSetPolicy } from './retention.openapi';

/** Retention and quota policy, purges and team deletion over HTTP (`:team`: slug or id). */
@Controller('admin/teams')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminRetentionController {
  constructor(
    private readonly policies: TeamPolicyService,
    private readonly purges: ArtifactPurgeService,
    private readonly deletions: TeamDeletionService,
  ) {}

  @Get(':team/policy')
  @ApiGetPolicy()
  policy(@Param('team') team: string) {
    return this.policies.get(team);
  }

  @Patch(':team/policy')
  @ApiSetPolicy()
  setPolicy(@Param('team') team: string, @Body(strictValidation()) body: UpdatePolicyDto) {
    return this.policies.set(team, body);
  }

  @Post(':team/purge')
  @ApiPurge()
  @HttpCode(200)
  purge(@Param('team') team: string, @Body(strictValidation()) body: PurgeArtifactsDto) {
    return this.purges.purge(team, body.olderThan, {
      writer: body.writer,
      scope: body.scope,
      hash: body.hash,
    });
  }

  @Delete(':team')
  @ApiDeleteTeam()
  delete(@Param('team') team: string) {
    return this.deletions.delete(team);
  }
}
