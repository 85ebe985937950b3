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
import {
  defaultOverlayScope,
  InvalidOverlayScopeError,
  parseOverlayScope,
  TrustTier,
} from '../trust/trust-tier';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface IssueToken {
  name?: string;
  readOnly?: boolean;
  /** A duration such as 30m, 12h, 90d, 1y; no expiry when omitted. */
  expiresIn?: string;
  /** trusted (default) or untrusted (trust/trust-tier.ts). */
  tier?: TrustTier;
  /** An untrusted token's overlay scope (default: its own, `token-<id>`); 400 for a trusted one. */
  overlayScope?: string;
  /** Lifetime in whole seconds (an OIDC exchange's policy); wins over `expiresIn`. */
  lifetimeSeconds?: number;
  /** Set by an OIDC exchange: the trust policy and the CI job the token is issued to. */
  oidc?: OidcOrigin;
}

/** Where an exchanged token came from (issue 17): its trust policy and the CI job's claims. */
export interface OidcOrigin {
  /** null once the policy is deleted. */
  policyId: string | null;
  /** The job as its CI token described it: issuer, subject, repository, ref, run id, ... */
  job: Record<string, string>;
}

/**
 * An untrusted token's tier and overlay scope, as token views show them. A trusted token's view
 * has neither field (absent = trusted), so every view of a trusted token (every token issued
 * before trust tiers) keeps the exact shape it had.
 */
export interface TierFields {
  tier?: TrustTier.Untrusted;
  overlayScope?: string;
}

/** The one time a token string exists outside its holder: handed out, never stored. */
export type IssuedToken = {
  id: string;
  token: string;
  /** The team id. */
  team: string;
  scope: TokenScope;
  expiresAt: Date | null;
} & TierFields;

/** A token record as admins see it: never the token string. */
export type TokenView = {
  id: string;
  team: string;
  name: string | null;
  scope: TokenScope;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** Only on tokens issued by an OIDC exchange. */
  oidc?: OidcOrigin;
} & TierFields;

/** Issuing, listing and revoking cache tokens, shared by the admin HTTP API and the CLI. */
@Injectable()
export class TokensService {
  constructor(
    @InjectRepository(Token) private readonly tokens: Repository<Token>,
    private readonly teams: TeamsService,
    private readonly signer: TokenSigner,
  ) {}

  /**
   * Issues a token (the string is returned only here). 400 for a bad duration, tier or scope,
   * or a scope given to a trusted token; 404 for an unknown team.
   */
  async issue(teamRef: string, options: IssueToken = {}): Promise<IssuedToken> {
    const lifetimeMs =
      options.lifetimeSeconds !== undefined
        ? options.lifetimeSeconds * 1000
        : options.expiresIn === undefined
          ? undefined
          : parseRequestDuration(options.expiresIn);
    const tier = options.tier ?? TrustTier.Trusted;
    if (tier !== TrustTier.Trusted && tier !== TrustTier.Untrusted) {
      throw AppException.badRequest(
        `tier must be "trusted" or "untrusted" (got ${JSON.stringify(tier)})`,
      );
    }
    if (tier === TrustTier.Trusted && options.overlayScope !== undefined) {
      throw AppException.badRequest(
        'a scope is for untrusted tokens only (trusted tokens write the trusted namespace)',
      );
    }
    let givenScope: string | undefined;
    try {
      givenScope =
        options.overlayScope === undefined ? undefined : parseOverlayScope(options.overlayScope);
    } catch (error) {
      if (error instanceof InvalidOverlayScopeError) throw AppException.badRequest(error.message);
      throw error;
    }
    const team = await this.teams.get(teamRef);
    const scope = options.readOnly ? TokenScope.ReadOnly : TokenScope.ReadWrite;
    // Whole seconds, as the JWT `exp` claim is, so the record and the token agree.
    const expiresAt =
      lifetimeMs === undefined
        ? null
        : new Date(Math.floor((Date.now() + lifetimeMs) / 1000) * 1000);
    const id = randomUUID();
    const overlayScope =
      tier === TrustTier.Untrusted ? (givenScope ?? defaultOverlayScope(id)) : null;
    await this.tokens.insert({
      id,
      teamId: team.id,
      name: options.name ?? null,
      scope,
      tier,
      overlayScope,
      expiresAt,
      oidcPolicyId: options.oidc?.policyId ?? null,
      oidcJob: options.oidc?.job ?? null,
    });
    const token = this.signer.sign(
      { tokenId: id, teamId: team.id, scope, keyVersion: team.keyVersion },
      expiresAt,
    );
    return { id, token, team: team.id, scope, ...tierFields(overlayScope), expiresAt };
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
    ...tierFields(token.overlayScope),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
    revokedAt: token.revokedAt,
    ...(token.oidcJob === null
      ? {}
      : { oidc: { policyId: token.oidcPolicyId, job: token.oidcJob } }),
  };
}

/** TierFields of a token from its overlay scope (null: trusted). */
function tierFields(overlayScope: string | null): TierFields {
  return overlayScope === null ? {} : { tier: TrustTier.Untrusted, overlayScope };
}
