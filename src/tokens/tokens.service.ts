import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { TokenSigner } from './token-signer';
import { TokenScope } from './token-scope';
import { AppException } from '../common/app-exception';
import { TeamsService } from '../teams/teams.service';
import { parseRequestDuration } from './duration';
import { Token } from './token.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IssueToken {
  name?: string;
  readOnly?: boolean;
  /** A duration such as 30m, 12h, 90d, 1y; no expiry when omitted. */
  expiresIn?: string;
}

/** The one time a token string exists outside its holder: handed out, never stored. */
export interface IssuedToken {
  id: string;
  token: string;
  /** The team id. */
  team: string;
  scope: TokenScope;
  expiresAt: Date | null;
}

/** A token record as admins see it: never the token string. */
export interface TokenView {
  id: string;
  team: string;
  name: string | null;
  scope: TokenScope;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** Issuing, listing and revoking cache tokens, shared by the admin HTTP API and the CLI. */
@Injectable()
export class TokensService {
  constructor(
    @InjectRepository(Token) private readonly tokens: Repository<Token>,
    private readonly teams: TeamsService,
    private readonly signer: TokenSigner,
  ) {}

  async issue(teamRef: string, options: IssueToken = {}): Promise<IssuedToken> {
    const lifetimeMs =
      options.expiresIn === undefined ? undefined : parseRequestDuration(options.expiresIn);
    const team = await this.teams.get(teamRef);
    const scope = options.readOnly ? TokenScope.ReadOnly : TokenScope.ReadWrite;
    // Whole seconds, as the JWT `exp` claim is, so the record and the token agree.
    const expiresAt =
      lifetimeMs === undefined
        ? null
        : new Date(Math.floor((Date.now() + lifetimeMs) / 1000) * 1000);
    const id = randomUUID();
    await this.tokens.insert({ id, teamId: team.id, name: options.name ?? null, scope, expiresAt });
    const token = this.signer.sign(
      { tokenId: id, teamId: team.id, scope, keyVersion: team.keyVersion },
      expiresAt,
    );
    return { id, token, team: team.id, scope, expiresAt };
  }

  async list(teamRef: string): Promise<TokenView[]> {
    const team = await this.teams.get(teamRef);
    const rows = await this.tokens.find({
      where: { teamId: team.id },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(view);
  }

  /** Revokes a token (idempotent: a second revoke keeps the first revocation time). */
  async revoke(tokenId: string): Promise<TokenView> {
    if (!UUID.test(tokenId)) {
      throw AppException.badRequest(`token id ${JSON.stringify(tokenId)} must be a UUID`);
    }
    await this.tokens.update({ id: tokenId, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
    const token = await this.tokens.findOneBy({ id: tokenId });
    if (!token) throw AppException.notFound(`no token ${tokenId}`);
    return view(token);
  }
}

function view(token: Token): TokenView {
  return {
    id: token.id,
    team: token.teamId,
    name: token.name,
    scope: token.scope,
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
  };
}
