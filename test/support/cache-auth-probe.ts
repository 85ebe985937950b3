import { Controller, Get, Module, Put, UseGuards } from '@nestjs/common';
import { AuthModule } from '../../src/auth/auth.module';
import { AllowPausedTeam, RequireWrite } from '../../src/auth/cache-auth.decorators';
import { CacheAuthGuard } from '../../src/auth/cache-auth.guard';
import { CurrentPrincipal, type CachePrincipal } from '../../src/auth/cache-principal';

/**
 * Who the guard let in: the token and its team. The principal's trust-tier fields (issue 16) are
 * left out unless the token is untrusted, so a trusted token's answer is what it always was;
 * test/e2e/trust-tiers*.e2e-spec.ts cover tiers through the real routes.
 */
function identity(principal: CachePrincipal) {
  const { tokenId, teamId, teamSlug, scope, teamStatus, tier, overlayScope } = principal;
  const base = { tokenId, teamId, teamSlug, scope, teamStatus };
  return tier === 'untrusted' ? { ...base, tier, overlayScope } : base;
}

/**
 * Stand-in cache routes for testing CacheAuthGuard on its own, each answering who it let in
 * (identity()): GET /probe/read, PUT /probe/write (@RequireWrite) and GET /probe/status
 * (@AllowPausedTeam).
 */
@Controller('probe')
@UseGuards(CacheAuthGuard)
class CacheAuthProbeController {
  @Get('read')
  read(@CurrentPrincipal() principal: CachePrincipal) {
    return identity(principal);
  }

  @Put('write')
  @RequireWrite()
  write(@CurrentPrincipal() principal: CachePrincipal) {
    return identity(principal);
  }

  @Get('status')
  @AllowPausedTeam()
  status(@CurrentPrincipal() principal: CachePrincipal) {
    return identity(principal);
  }
}

/** Mount with createTestApp(env, { extraImports: [CacheAuthProbeModule] }). */
@Module({ imports: [AuthModule], controllers: [CacheAuthProbeController] })
export class CacheAuthProbeModule {}
