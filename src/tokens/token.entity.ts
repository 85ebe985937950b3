import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { TokenScope } from './token-scope';
import { TrustTier } from '../trust/trust-tier';
import { Team } from '../teams/team.entity';

/**
 * The record of an issued cache token: its id is the JWT's `jti`. The token string itself is
 * never stored: it is handed out once, and verified by signature plus this row's revocation.
 */
@Entity({ name: 'tokens' })
@Check('CHK_tokens_scope', `"scope" IN ('read-write', 'read-only')`)
@Check('CHK_tokens_tier', `"tier" IN ('trusted', 'untrusted')`)
@Check('CHK_tokens_overlay_scope', `("tier" = 'trusted') = ("overlay_scope" IS NULL)`)
export class Token {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'PK_tokens' })
  id: string;

  @Index('IDX_tokens_team_id')
  @ForeignKey(() => Team, { name: 'FK_tokens_team_id', onDelete: 'CASCADE' })
  @Column({ name: 'team_id', type: 'varchar', length: 64 })
  teamId: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 16 })
  scope: TokenScope;

  /** trusted: reads and writes the trusted namespace; untrusted: see trust/trust-tier.ts. */
  @Column({ type: 'varchar', length: 16, default: TrustTier.Trusted })
  tier: TrustTier;

  /** The overlay an untrusted token reads after the trusted namespace and writes into; null when trusted. */
  @Column({ name: 'overlay_scope', type: 'varchar', length: 64, nullable: true })
  overlayScope: string | null;

  /**
   * The trust policy an OIDC exchange issued this token by (issue 17); null for tokens issued by
   * an admin, or once the policy is deleted. The policy entity is named, not imported: tokens/
   * does not depend on oidc/.
   */
  @ForeignKey('OidcPolicy', { name: 'FK_tokens_oidc_policy_id', onDelete: 'SET NULL' })
  @Column({ name: 'oidc_policy_id', type: 'uuid', nullable: true })
  oidcPolicyId: string | null;

  /** The CI job an exchanged token was issued to (issuer, subject, repository, ref, run id, ...). */
  @Column({ name: 'oidc_job', type: 'jsonb', nullable: true })
  oidcJob: Record<string, string> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
