import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AppException } from '../common/app-exception';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TeamsService } from '../teams/teams.service';
import { OidcPolicy } from './oidc-policy.entity';
import { InvalidTrustPolicyError, parseTrustPolicy, type TrustPolicySpec } from './trust-policy';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** PostgreSQL's unique_violation SQLSTATE. */
const UNIQUE_VIOLATION = '23505';

/** A trust policy as admins see it: the posted JSON with its id, team and creation time. */
export interface TrustPolicyView extends TrustPolicySpec {
  id: string;
  /** The team id. */
  team: string;
  createdAt: Date;
}

/**
 * A team's trust policies (issue 17), for the admin API, the CLI and the exchange. A policy is
 * checked whole when saved (trust-policy.ts) and never edited: remove and add again.
 */
@Injectable()
export class TrustPoliciesService {
  private readonly issuers: readonly string[];

  constructor(
    @InjectRepository(OidcPolicy) private readonly policies: Repository<OidcPolicy>,
    private readonly teams: TeamsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.issuers = config.oidc.issuers;
  }

  /** Saves a policy: 400 with the rule it breaks, 404 for an unknown team, 409 for a taken name. */
  async add(teamRef: string, body: unknown): Promise<TrustPolicyView> {
    let spec: TrustPolicySpec;
    try {
      spec = parseTrustPolicy(body, this.issuers);
    } catch (error) {
      if (error instanceof InvalidTrustPolicyError) throw AppException.badRequest(error.message);
      throw error;
    }
    const team = await this.teams.get(teamRef);
    const id = randomUUID();
    try {
      await this.policies.insert({
        id,
        teamId: team.id,
        name: spec.name,
        issuer: spec.issuer,
        audience: spec.audience,
        conditions: spec.conditions,
        access: spec.access,
        tier: spec.tier,
        scopeTemplate: spec.scope,
        ttlSeconds: spec.ttlSeconds,
      });
    } catch (error) {
      if ((error as { driverError?: { code?: string } }).driverError?.code === UNIQUE_VIOLATION) {
        throw AppException.conflict(`team ${team.slug} already has a policy named ${spec.name}`);
      }
      throw error;
    }
    return view((await this.policies.findOneByOrFail({ id }))!);
  }

  /** The team's policies by name; 404 for an unknown team. */
  async list(teamRef: string): Promise<TrustPolicyView[]> {
    const team = await this.teams.get(teamRef);
    const rows = await this.policies.find({ where: { teamId: team.id }, order: { name: 'ASC' } });
    return rows.map(view);
  }

  /** Deletes a policy (its tokens stay valid until they expire or are revoked); 400/404. */
  async remove(policyId: string): Promise<TrustPolicyView> {
    if (!UUID.test(policyId)) {
      throw AppException.badRequest(`policy id ${JSON.stringify(policyId)} must be a UUID`);
    }
    const row = await this.policies.findOneBy({ id: policyId });
    if (!row) throw AppException.notFound(`no trust policy ${policyId}`);
    await this.policies.delete({ id: policyId });
    return view(row);
  }

  /** The policies of a team for one issuer (the exchange's candidates). */
  forIssuer(teamId: string, issuer: string): Promise<OidcPolicy[]> {
    return this.policies.find({ where: { teamId, issuer }, order: { name: 'ASC' } });
  }
}

function view(row: OidcPolicy): TrustPolicyView {
  return {
    id: row.id,
    team: row.teamId,
    name: row.name,
    issuer: row.issuer,
    audience: row.audience,
    conditions: row.conditions,
    access: row.access,
    tier: row.tier,
    scope: row.scopeTemplate,
    ttlSeconds: row.ttlSeconds,
    createdAt: row.createdAt,
  };
}
