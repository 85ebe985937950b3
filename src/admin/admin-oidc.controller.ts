import { Body, Controller, Delete, Get, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-errors';
import { TrustPoliciesService } from '../oidc/trust-policies.service';
import { ApiAdminRoutes } from './admin.openapi';
import { AdminTokenGuard } from './admin-token.guard';

const CONDITION = {
  type: 'object',
  description: 'exactly one of eq, ieq, in, glob (* and ?), present',
  properties: {
    eq: { type: 'string' },
    ieq: { type: 'string' },
    in: { type: 'array', items: { type: 'string' } },
    glob: { type: 'string' },
    present: { type: 'boolean' },
  },
};
const POLICY = {
  type: 'object',
  required: ['name', 'issuer', 'audience', 'conditions', 'access', 'tier'],
  properties: {
    name: { type: 'string', example: 'main' },
    issuer: { type: 'string', example: 'https://token.actions.githubusercontent.com' },
    audience: { type: 'string', example: 'https://cache.example.com' },
    conditions: {
      type: 'object',
      additionalProperties: CONDITION,
      example: { repository_owner_id: { eq: '65' }, ref: { in: ['refs/heads/main'] } },
      description:
        'claim -> condition, all must hold; must pin repository_owner_id, repository_id, namespace_id or project_id with eq or in',
    },
    access: { type: 'string', enum: ['read-write', 'read-only'] },
    tier: { type: 'string', enum: ['trusted', 'untrusted'] },
    scope: {
      type: 'string',
      example: '{repository_id}-{ref}',
      description: 'untrusted only (and required there): the overlay scope template',
    },
    ttlSeconds: { type: 'integer', minimum: 60, maximum: 21600, default: 3600 },
  },
};
const POLICY_VIEW = {
  ...POLICY,
  properties: {
    id: { type: 'string', format: 'uuid' },
    team: { type: 'string', description: 'team id' },
    ...POLICY.properties,
    scope: { ...POLICY.properties.scope, nullable: true },
    createdAt: { type: 'string', format: 'date-time' },
  },
};

/** Trust policies of the OIDC exchange over HTTP (issue 17; `:team`: slug or id). */
@Controller('admin')
@UseGuards(AdminTokenGuard)
@ApiAdminRoutes()
export class AdminOidcController {
  constructor(private readonly policies: TrustPoliciesService) {}

  @Post('teams/:team/oidc-policies')
  @ApiOperation({ summary: 'add a trust policy: which CI job tokens are exchanged, for what' })
  @ApiBody({ schema: POLICY })
  @ApiResponse({ status: 201, schema: POLICY_VIEW })
  @ApiErrors(400, 409)
  add(@Param('team') team: string, @Body() body: unknown) {
    return this.policies.add(team, body);
  }

  @Get('teams/:team/oidc-policies')
  @ApiOperation({ summary: "the team's trust policies" })
  @ApiResponse({ status: 200, schema: { type: 'array', items: POLICY_VIEW } })
  list(@Param('team') team: string) {
    return this.policies.list(team);
  }

  @Delete('oidc-policies/:id')
  @ApiOperation({
    summary: 'remove a trust policy (tokens it issued stay valid until they expire or are revoked)',
  })
  @ApiResponse({ status: 200, schema: POLICY_VIEW })
  @ApiErrors(400)
  remove(@Param('id') id: string) {
    return this.policies.remove(id);
  }
}
