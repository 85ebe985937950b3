import { Module } from '@nestjs/common';
import { AdminUiAssets } from './admin-ui.assets';
import { AdminUiController } from './admin-ui.controller';
import { AdminUiEnabledGuard } from './admin-ui-enabled.guard';

/** The read-only admin usage page at /admin/ui (enabled with the admin API by ADMIN_TOKEN). */
@Module({
  controllers: [AdminUiController],
  providers: [AdminUiAssets, AdminUiEnabledGuard],
})
export class AdminUiModule {}
