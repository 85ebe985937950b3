import { IsBoolean, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { TrustTier } from '../trust/trust-tier';
import { TEAM_SLUG, TEAM_SLUG_RULE } from '../teams/team-ref';

export class CreateTeamDto {
  @IsString({ message: 'slug must be a string' })
  @Matches(TEAM_SLUG, { message: `slug must be ${TEAM_SLUG_RULE}` })
  slug: string;

  @IsOptional()
  @IsString({ message: 'name must be a string' })
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  name?: string;
}

export class IssueTokenDto {
  @IsOptional()
  @IsString({ message: 'name must be a string' })
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  name?: string;

  @IsOptional()
  @IsBoolean({ message: 'readOnly must be true or false' })
  readOnly?: boolean;

  /** Checked by the duration parser (400 with its message). */
  @IsOptional()
  @IsString({ message: 'expiresIn must be a duration such as 30m, 12h, 90d or 1y' })
  expiresIn?: string;

  @IsOptional()
  @IsIn(Object.values(TrustTier), { message: 'tier must be "trusted" or "untrusted"' })
  tier?: TrustTier;

  /** Checked by TokensService (400 with the scope rule). */
  @IsOptional()
  @IsString({ message: 'overlayScope must be a string' })
  overlayScope?: string;
}
