import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Team } from '../teams/team.entity';
import { Token } from '../tokens/token.entity';
import { TtlCache } from './ttl-cache';

/**
 * How stale an answer may be: a pause, a key rotation or a revocation made anywhere (another
 * replica, the CLI) takes effect within this time, while a busy token costs at most one team
 * and one token query per interval.
 */
export const AUTH_LOOKUP_TTL_MS = 3_000;
const MAX_ENTRIES = 10_000;

export type TokenState = Pick<Token, 'id' | 'teamId' | 'scope' | 'expiresAt' | 'revokedAt'>;

/** The database reads of every authenticated request, cached briefly (AUTH_LOOKUP_TTL_MS). */
@Injectable()
export class AuthLookups {
  private readonly teamsById = new TtlCache<string, Team | null>(AUTH_LOOKUP_TTL_MS, MAX_ENTRIES);
  private readonly tokensById = new TtlCache<string, TokenState | null>(
    AUTH_LOOKUP_TTL_MS,
    MAX_ENTRIES,
  );

  constructor(
    @InjectRepository(Team) private readonly teams: Repository<Team>,
    @InjectRepository(Token) private readonly tokens: Repository<Token>,
  ) {}

  /**
   * The team whose key a token claims. A token claiming a newer key version than the cached
   * team (its key was rotated since) forces a re-read, so a token issued right after a
   * rotation works at once; forged claims cost no more than an unknown team id does.
   */
  async teamForKey(teamId: string, keyVersion: number): Promise<Team | null> {
    const load = () => this.teams.findOneBy({ id: teamId });
    const team = await this.teamsById.get(teamId, load);
    if (team && keyVersion > team.keyVersion) return this.teamsById.get(teamId, load, 0);
    return team;
  }

  token(tokenId: string): Promise<TokenState | null> {
    return this.tokensById.get(tokenId, () =>
      this.tokens.findOne({
        where: { id: tokenId },
        select: { id: true, teamId: true, scope: true, expiresAt: true, revokedAt: true },
      }),
    );
  }
}
