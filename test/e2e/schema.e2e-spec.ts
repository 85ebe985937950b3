import { createTestApp, TestApp } from '../support/test-app';

describe('migrations', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('leave no entity change without a migration', async () => {
    const pending = await t.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('create the teams and tokens tables with their keys and indexes', async () => {
    const indexes = await t.dataSource.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('teams', 'tokens') ORDER BY indexname`,
    );
    expect(indexes.map((i: { indexname: string }) => i.indexname)).toEqual([
      'IDX_teams_slug',
      'IDX_tokens_team_id',
      'PK_teams',
      'PK_tokens',
    ]);
    expect(indexes[0].indexdef).toContain('CREATE UNIQUE INDEX');
    const [fk] = await t.dataSource.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'FK_tokens_team_id'`,
    );
    expect(fk.def).toBe('FOREIGN KEY (team_id) REFERENCES teams(id) ON DELETE CASCADE');
  });
});
