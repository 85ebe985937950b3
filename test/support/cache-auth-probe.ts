import { Controller, Get, Module, Put, UseGuards } from '@nestjs/common';
import { AuthModule } from '../../src/auth/auth.module';
import { AllowPausedTeam, RequireWrite } from '../../src/auth/cache-auth.decorators';
import { CacheAuthGuard } from '../../src/auth/cache-auth.guard';
import { CurrentPrincipal, type CachePrincipal } from '../../src/auth/cache-principal';

/**
 * Stand-in cache routes for testing CacheAuthGuard on its own, each answering the principal:
 * GET /probe/read, PUT /probe/write (@RequireWrite) and GET /probe/status (@AllowPausedTeam).
 */
@Controller('probe')
@UseGuards(CacheAuthGuard)
class CacheAuthProbeController {
  @Get('read')
  read(@CurrentPrincipal() principal: CachePrincipal) {
    return principal;
  }

  @Put('write')
  @RequireWrite()
  write(@CurrentPrincipal() principal: CachePrincipal) {
    return principal;
  }

  @Get('status')
  @AllowPausedTeam()
  status(@CurrentPrincipal() principal: CachePrincipal) {
    return principal;
  }
}

/** Mount with createTestApp(env, { extraImports: [CacheAuthProbeModule] }). */
@Module({ imports: [AuthModule], controllers: [CacheAuthProbeController] })
export class CacheAuthProbeModule {}
