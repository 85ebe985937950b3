import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { strictValidation } from '../common/validation';
import { TeamsService } from '../teams/teams.service';
import { CreateTeamDto } from './admin.dto';
import { ApiAdminRoutes, ApiCreateTeamBody, ApiTeamOperation } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';

/** Team administration over HTTP (`:team` is a slug or a team id). */
@Controller('admin/teams')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminTeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  @ApiTeamOperation('create a team', { status: 201 })
  @ApiCreateTeamBody()
  create(@Body(strictValidation()) body: CreateTeamDto) {
    return this.teams.create(body);
  }

  @Get()
  @ApiTeamOperation('all teams', { list: true })
  list() {
    return this.teams.list();
  }

  @Get(':team')
  @ApiTeamOperation('one team')
  get(@Param('team') team: string) {
    return this.teams.get(team);
  }

  @Post(':team/pause')
  @ApiTeamOperation("pause the team's cache (turbo shows it as paused)")
  @HttpCode(200)
  pause(@Param('team') team: string) {
    return this.teams.pause(team);
  }

  @Post(':team/resume')
  @ApiTeamOperation("resume the team's cache")
  @HttpCode(200)
  resume(@Param('team') team: string) {
    return this.teams.resume(team);
  }

  @Post(':team/rotate-key')
  @ApiTeamOperation("rotate the team's signing key: voids all its tokens")
  @HttpCode(200)
  rotateKey(@Param('team') team: string) {
    return this.teams.rotateKey(team);
  }
}
