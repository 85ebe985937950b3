import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { Team } from '../teams/team.entity';
import { TokenScope } from '../tokens/token-scope';
import { TrustTier } from '../trust/trust-tier';
import type { PolicyConditions } from './policy-conditions';

/** A team's trust policy (trust-policy.ts): which CI job tokens are exchanged, for what. */
@Entity({ name: 'oidc_policies' })
@Index('IDX_oidc_policies_team_name', ['teamId', 'name'], { unique: true })
@Check('CHK_oidc_policies_access', `"access" IN ('read-write', 'read-only')`)
@Check('CHK_oidc_policies_tier', `"tier" IN ('trusted', 'untrusted')`)
@Check('CHK_oidc_policies_ttl_seconds', `"ttl_seconds" BETWEEN 60 AND 21600`)
export class OidcPolicy {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'PK_oidc_policies' })
  id: string;

  @ForeignKey(() => Team, { name: 'FK_oidc_policies_team_id', onDelete: 'CASCADE' })
  @Column({ name: 'team_id', type: 'varchar', length: 64 })
  teamId: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 300 })
  issuer: string;

  @Column({ type: 'varchar', length: 200 })
  audience: string;

  @Column({ type: 'jsonb' })
  conditions: PolicyConditions;

  @Column({ type: 'varchar', length: 16 })
  access: TokenScope;

  @Column({ type: 'varchar', length: 16 })
  tier: TrustTier;

  @Column({ name: 'scope_template', type: 'varchar', length: 200, nullable: true })
  scopeTemplate: string | null;

  @Column({ name: 'ttl_seconds', type: 'integer' })
  ttlSeconds: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** The `jti` of an exchanged CI token, kept until it expires, so it is never exchanged twice. */
@Entity({ name: 'oidc_used_jtis' })
@Index('IDX_oidc_used_jtis_expires_at', ['expiresAt'])
export class OidcUsedJti {
  @PrimaryColumn({ type: 'varchar', length: 300, primaryKeyConstraintName: 'PK_oidc_used_jtis' })
  issuer: string;

  @PrimaryColumn({ type: 'varchar', length: 256, primaryKeyConstraintName: 'PK_oidc_used_jtis' })
  jti: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
