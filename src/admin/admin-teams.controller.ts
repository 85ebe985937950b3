import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { strictValidation } from '../common/validation';
import { TeamsService } from '../teams/teams.service';
import { CreateTeamDto } from './admin.dto';
import { AdminTokenGuard } from './admin-token.guard';

/** Team administration over HTTP (`:team` is a slug or a team id). */
@Controller('admin/teams')
@UseGuards(AdminTokenGuard)
export class AdminTeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Post()
  create(@Body(strictValidation()) body: CreateTeamDto) {
    return this.teams.create(body);
  }

  @Get()
  list() {
    return this.teams.list();
  }

  @Get(':team')
  get(@Param('team') team: string) {
    return this.teams.get(team);
  }

  @Post(':team/pause')
  @HttpCode(200)
  pause(@Param('team') team: string) {
    return this.teams.pause(team);
  }

  @Post(':team/resume')
  @HttpCode(200)
  resume(@Param('team') team: string) {
    return this.teams.resume(team);
  }

  @Post(':team/rotate-key')
  @HttpCode(200)
  rotateKey(@Param('team') team: string) {
    return this.teams.rotateKey(team);
  }
}
