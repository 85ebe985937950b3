import { Allow, IsOptional, IsString } from 'class-validator';

/** PATCH /admin/teams/:team/policy; values are checked by the policy parser (400 with its message). */
export class UpdatePolicyDto {
  /** Whole days (1 to 36500) or "default". */
  @IsOptional()
  @Allow()
  retentionDays?: number | string;

  /** A size ("10GiB", a byte count), "none" or "default". */
  @IsOptional()
  @Allow()
  quota?: number | string;
}

/** POST /admin/teams/:team/purge. */
export class PurgeArtifactsDto {
  /** Only artifacts uploaded more than this long ago (30m, 12h, 7d); all when omitted. */
  @IsOptional()
  @IsString({ message: 'olderThan must be a duration such as 12h, 7d or 4w' })
  olderThan?: string;

  /** Only the versions this token wrote (a token id); checked by the purge (400). */
  @IsOptional()
  @IsString({ message: 'writer must be a token id' })
  writer?: string;

  /** Only this namespace: `trusted` or an overlay's scope; checked by the purge (400). */
  @IsOptional()
  @IsString({ message: 'scope must be "trusted" or a scope name' })
  scope?: string;

  /** Only the versions of this hash; checked by the purge (400). */
  @IsOptional()
  @IsString({ message: 'hash must be a string of hex digits' })
  hash?: string;
}
