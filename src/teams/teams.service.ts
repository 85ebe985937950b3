import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { QueryFailedError, Repository } from 'typeorm';
import { AppException } from '../common/app-exception';
import { newTeamId, parseTeamRef, TEAM_SLUG, TEAM_SLUG_RULE } from './team-ref';
import { Team, TeamStatus } from './team.entity';

const UNIQUE_VIOLATION = '23505';

export interface CreateTeam {
  slug: string;
  /** Display name; the slug when omitted. */
  name?: string;
}

/** Team administration, shared by the admin HTTP API and the CLI. */
@Injectable()
export class TeamsService {
  constructor(@InjectRepository(Team) private readonly teams: Repository<Team>) {}

  async create({ slug, name }: CreateTeam): Promise<Team> {
    if (!TEAM_SLUG.test(slug)) {
      throw AppException.badRequest(`team slug ${JSON.stringify(slug)} must be ${TEAM_SLUG_RULE}`);
    }
    const team = this.teams.create({ id: newTeamId(), slug, name: name ?? slug });
    try {
      await this.teams.insert(team);
    } catch (error) {
      if (error instanceof QueryFailedError && errorCode(error) === UNIQUE_VIOLATION) {
        throw AppException.conflict(`a team with slug "${slug}" already exists`);
      }
      throw error;
    }
    return this.teams.findOneByOrFail({ id: team.id });
  }

  /** How many teams exist (paused ones included). */
  count(): Promise<number> {
    return this.teams.count();
  }

  list(): Promise<Team[]> {
    return this.teams.find({ order: { createdAt: 'ASC', slug: 'ASC' } });
  }

  /** The team named by a slug or an id; 400 when `ref` is neither, 404 when there is none. */
  async get(ref: string): Promise<Team> {
    const where = parseTeamRef(ref);
    if (!where) {
      throw AppException.badRequest(`${JSON.stringify(ref)} is not a team slug or team id`);
    }
    const team = await this.teams.findOneBy(where);
    if (!team) throw AppException.notFound(`no team ${JSON.stringify(ref)}`);
    return team;
  }

  pause(ref: string): Promise<Team> {
    return this.setStatus(ref, TeamStatus.Paused);
  }

  resume(ref: string): Promise<Team> {
    return this.setStatus(ref, TeamStatus.Enabled);
  }

  /** A new signing key version: every token issued so far stops verifying. */
  async rotateKey(ref: string): Promise<Team> {
    const team = await this.get(ref);
    await this.teams.increment({ id: team.id }, 'keyVersion', 1);
    return this.teams.findOneByOrFail({ id: team.id });
  }

  private async setStatus(ref: string, status: TeamStatus): Promise<Team> {
    const team = await this.get(ref);
    if (team.status !== status) await this.teams.update({ id: team.id }, { status });
    return this.teams.findOneByOrFail({ id: team.id });
  }
}

function errorCode(error: QueryFailedError): string | undefined {
  return (error.driverError as { code?: string } | undefined)?.code;
}
