// Loading governance state from rows written by hand as LiteLLM writes them: typed values, the
// budget-table fill-in of key_auth_combined_view.sql, single-key lookups, and an older database
// that lacks optional columns and tables.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { createPool, dbReachable } from '../../src/db/pool';
import { keyBundles, loadAll, loadKey, loadKeys } from '../../src/db/queries';
import { q, readDb } from '../../src/admin/db';
import { ensureSchema } from '../../src/db/schema';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const pools: pg.Pool[] = [];
after(async () => {
  for (const p of pools) await p.end();
  await stopTestPostgres();
});

async function db(label: string): Promise<pg.Pool> {
  const p = createPool(await freshDatabase(label));
  pools.push(p);
  return p;
}

const K1 = '1'.repeat(64);
const K2 = '2'.repeat(64);
const K3 = '3'.repeat(64);

async function seedLiteLLM(pool: pg.Pool): Promise<number> {
  const by = `'default_user_id', 'default_user_id'`;
  await pool.query(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, tpm_limit, rpm_limit, model_max_budget, budget_duration, created_by, updated_by)
                    VALUES ('b-key', 50, 40, 1000, 60, '{"gpt-4o": {"budget_limit": 5, "time_period": "1d"}}', '30d', ${by})`);
  await pool.query(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, rpm_limit, allowed_models, created_by, updated_by)
                    VALUES ('b-member', 5, 10, ARRAY['gpt-4o'], ${by})`);
  await pool.query(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by) VALUES ('b-eu', 2, ${by}), ('b-org', 100, ${by})`);
  await pool.query(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, models, metadata, spend, created_by, updated_by)
                    VALUES ('org-1', 'Acme', 'b-org', ARRAY['gpt-4o'], '{"tier": "gold"}', 12.5, ${by})`);
  const { rows } = await pool.query(`INSERT INTO "LiteLLM_ModelTable" (aliases, created_by, updated_by) VALUES ('{"fast": "gpt-4o-mini"}', ${by}) RETURNING id`);
  const modelId = rows[0].id as number;
  await pool.query(
    `INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, organization_id, admins, members, members_with_roles, metadata, max_budget, spend, models,
                                      tpm_limit, rpm_limit, budget_duration, budget_reset_at, model_id, updated_at)
     VALUES ('team-1', 'Platform', 'org-1', ARRAY['u1'], ARRAY['u1'], '[{"role": "admin", "user_id": "u1", "user_email": null}]', '{}', 20, 3.5,
             ARRAY['gpt-4o', 'claude-*'], 5000, 100, '1mo', '2025-07-01 00:00:00', $1, '2025-06-01 10:00:00.123')`,
    [modelId],
  );
  await pool.query(`INSERT INTO "LiteLLM_UserTable" (user_id, user_alias, user_email, user_role, teams, max_budget, spend, models, metadata)
                    VALUES ('u1', 'Ann', 'ann@example.com', 'internal_user', ARRAY['team-1'], 30, 1.75, '{}', '{"dept": "eng"}')`);
  await pool.query(`INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend, total_spend, budget_id) VALUES ('u1', 'team-1', 1.25, 9, 'b-member')`);
  await pool.query(`INSERT INTO "LiteLLM_EndUserTable" (user_id, alias, spend, budget_id, allowed_model_region) VALUES ('eu-1', 'Cust', 0.5, 'b-eu', 'eu')`);
  await pool.query(`INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, blocked) VALUES ('eu-2', 0, true)`);
  // k1: limits only on its budget row; k2: its own max_budget wins; k3: its own model_max_budget wins.
  await pool.query(
    `INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, spend, expires, models, aliases, metadata, user_id, team_id, organization_id,
                                               budget_id, blocked, allowed_routes, key_rotation_at)
     VALUES ($1, 'sk-...abcd', 'ci-key', 0.25, '2030-01-02 03:04:05.678', ARRAY['gpt-4o'], '{"gpt4": "gpt-4o"}', '{"tags": ["ci"]}', 'u1', 'team-1', 'org-1',
             'b-key', NULL, ARRAY['llm_api_routes'], NULL)`,
    [K1],
  );
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, max_budget, budget_id, blocked) VALUES ($1, '{}', 7, 'b-key', true)`, [K2]);
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, tpm_limit, model_max_budget) VALUES ($1, NULL, 9, '{"claude": {"budget_limit": 1}}')`, [K3]);
  return modelId;
}

test('loadAll: every governance row as a plain typed object, key limits filled from the budget table', async () => {
  const pool = await db('q_all');
  await ensureSchema(pool);
  await seedLiteLLM(pool);
  const s = await loadAll(pool);
  assert.ok(s.loadedAt instanceof Date);
  assert.equal(s.keys.length, 3);
  assert.equal(s.budgets.length, 4);

  const k1 = s.keys.find((k) => k.token === K1)!;
  assert.equal(k1.key_alias, 'ci-key');
  assert.equal(k1.key_name, 'sk-...abcd');
  assert.equal(k1.spend, 0.25);
  assert.equal(k1.max_budget, 50, 'from the budget row');
  assert.equal(k1.soft_budget, 40);
  assert.equal(k1.tpm_limit, 1000);
  assert.equal(k1.rpm_limit, 60);
  assert.deepEqual(k1.model_max_budget, { 'gpt-4o': { budget_limit: 5, time_period: '1d' } });
  assert.equal(k1.max_parallel_requests, null);
  assert.deepEqual(k1.expires, new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678)));
  assert.equal(k1.blocked, false);
  assert.deepEqual(k1.models, ['gpt-4o']);
  assert.deepEqual(k1.aliases, { gpt4: 'gpt-4o' });
  assert.deepEqual(k1.metadata, { tags: ['ci'] });
  assert.deepEqual(k1.allowed_routes, ['llm_api_routes']);
  assert.equal(k1.user_id, 'u1');
  assert.equal(k1.team_id, 'team-1');
  assert.equal(k1.organization_id, 'org-1');
  assert.equal(k1.budget_id, 'b-key');
  assert.ok(k1.created_at instanceof Date);

  const k2 = s.keys.find((k) => k.token === K2)!;
  assert.equal(k2.max_budget, 7, "the key's own value wins");
  assert.equal(k2.rpm_limit, 60);
  assert.equal(k2.blocked, true);
  assert.deepEqual(k2.models, []);
  assert.equal(k2.expires, null);
  const k3 = s.keys.find((k) => k.token === K3)!;
  assert.equal(k3.tpm_limit, 9);
  assert.equal(k3.max_budget, null);
  assert.equal(k3.soft_budget, null);
  assert.deepEqual(k3.model_max_budget, { claude: { budget_limit: 1 } });
  assert.deepEqual(k3.models, [], 'a NULL array reads as empty');

  const [team] = s.teams;
  assert.equal(team!.team_id, 'team-1');
  assert.equal(team!.team_alias, 'Platform');
  assert.equal(team!.spend, 3.5);
  assert.equal(team!.max_budget, 20);
  assert.equal(team!.tpm_limit, 5000);
  assert.equal(team!.rpm_limit, 100);
  assert.deepEqual(team!.models, ['gpt-4o', 'claude-*']);
  assert.deepEqual(team!.members_with_roles, [{ role: 'admin', user_id: 'u1', user_email: null }]);
  assert.deepEqual(team!.model_aliases, { fast: 'gpt-4o-mini' });
  assert.deepEqual(team!.budget_reset_at, new Date(Date.UTC(2025, 6, 1)));
  assert.deepEqual(team!.updated_at, new Date(Date.UTC(2025, 5, 1, 10, 0, 0, 123)));
  assert.equal(team!.blocked, false);

  const [m] = s.teamMembers;
  assert.equal(m!.spend, 1.25);
  assert.equal(m!.total_spend, 9);
  assert.equal(m!.budget!.max_budget, 5);
  assert.equal(m!.budget!.rpm_limit, 10);
  assert.deepEqual(m!.budget!.allowed_models, ['gpt-4o']);

  const [u] = s.users;
  assert.deepEqual(
    { id: u!.user_id, email: u!.user_email, role: u!.user_role, teams: u!.teams, max: u!.max_budget, spend: u!.spend, md: u!.metadata },
    { id: 'u1', email: 'ann@example.com', role: 'internal_user', teams: ['team-1'], max: 30, spend: 1.75, md: { dept: 'eng' } },
  );

  const eu1 = s.endUsers.find((e) => e.user_id === 'eu-1')!;
  assert.equal(eu1.spend, 0.5);
  assert.equal(eu1.budget!.max_budget, 2);
  assert.equal(eu1.allowed_model_region, 'eu');
  assert.equal(eu1.blocked, false);
  const eu2 = s.endUsers.find((e) => e.user_id === 'eu-2')!;
  assert.equal(eu2.blocked, true);
  assert.equal(eu2.budget, null);

  const [o] = s.organizations;
  assert.equal(o!.organization_alias, 'Acme');
  assert.equal(o!.spend, 12.5);
  assert.equal(o!.budget!.max_budget, 100);
  assert.deepEqual(o!.models, ['gpt-4o']);
  assert.deepEqual(o!.metadata, { tier: 'gold' });
});

test('loadAll with an end-user scope: rows with a budget of their own (not the default one) and the ids asked for, no others', async () => {
  const pool = await db('q_scope');
  await ensureSchema(pool);
  await seedLiteLLM(pool);
  await pool.query(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by) VALUES ('b-default', 1, 'x', 'x')`);
  await pool.query(`INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, blocked, budget_id) VALUES ('eu-default', 0, false, 'b-default'), ('eu-asked', 0.25, false, NULL)`);
  await pool.query(`INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, blocked) SELECT 'eu-plain-' || g, 0, false FROM generate_series(1, 500) g`);
  const ids = (s: Awaited<ReturnType<typeof loadAll>>) => s.endUsers.map((e) => e.user_id).sort();
  assert.deepEqual(ids(await loadAll(pool, { ids: ['eu-asked', 'eu-none-such'], defaultBudgetId: 'b-default' })), ['eu-1', 'eu-asked']);
  assert.deepEqual(ids(await loadAll(pool, { ids: [], defaultBudgetId: null })), ['eu-1', 'eu-default']);
  const asked = (await loadAll(pool, { ids: ['eu-default'], defaultBudgetId: 'b-default' })).endUsers.find((e) => e.user_id === 'eu-default')!;
  assert.equal(asked.budget!.max_budget, 1);
  // Without a scope, every row (tools and tests).
  assert.equal((await loadAll(pool)).endUsers.length, 504);
});

test('loadKey: one key with its team, membership, user and organization; null when unknown', async () => {
  const pool = await db('q_key');
  await ensureSchema(pool);
  await seedLiteLLM(pool);
  const b = await loadKey(pool, K1);
  assert.ok(b);
  assert.equal(b.key.max_budget, 50);
  assert.equal(b.team!.team_alias, 'Platform');
  assert.deepEqual(b.team!.model_aliases, { fast: 'gpt-4o-mini' });
  assert.equal(b.teamMember!.spend, 1.25);
  assert.equal(b.teamMember!.budget!.rpm_limit, 10);
  assert.equal(b.user!.user_email, 'ann@example.com');
  assert.equal(b.organization!.budget!.max_budget, 100);
  const lone = await loadKey(pool, K3);
  assert.deepEqual({ team: lone!.team, m: lone!.teamMember, u: lone!.user, o: lone!.organization }, { team: null, m: null, u: null, o: null });
  assert.equal(await loadKey(pool, 'f'.repeat(64)), null);
  assert.equal(await loadKey(pool, `' OR 1=1 --`), null, 'the hash is a parameter, never SQL');
});

test('loadKeys: many keys in one read, each with what it draws on, the unknown left out', async () => {
  const pool = await db('q_keys');
  await ensureSchema(pool);
  await seedLiteLLM(pool);
  const bundles = await loadKeys(pool, [K3, 'f'.repeat(64), K1, K2, K1]);
  assert.deepEqual(bundles.map((b) => b.key.token).sort(), [K1, K2, K3]);
  const one = async (k: string) => (await loadKey(pool, k))!;
  for (const b of bundles) assert.deepEqual(b, await one(b.key.token), 'the same bundle as read alone');
  assert.equal(bundles.find((b) => b.key.token === K1)!.key.max_budget, 50, 'from its budget row');
  assert.deepEqual(await loadKeys(pool, []), []);
});

test('keyBundles: key rows as an INSERT … RETURNING of the admin side gives them make the bundles loadKeys reads', async () => {
  const pool = await db('q_key_rows');
  await ensureSchema(pool);
  await seedLiteLLM(pool);
  // The admin side's own type parsers (timestamps as ISO strings, numerics as numbers), as a run
  // key's INSERT returns its row.
  const rows = await q(readDb(pool), `SELECT * FROM "LiteLLM_VerificationToken" WHERE token = ANY($1) ORDER BY token`, [[K1, K2, K3]]);
  assert.equal(rows.length, 3);
  const byToken = <T extends { key: { token: string } }>(bs: T[]) => [...bs].sort((a, b) => a.key.token.localeCompare(b.key.token));
  assert.deepEqual(byToken(await keyBundles(pool, rows)), byToken(await loadKeys(pool, [K1, K2, K3])));
  assert.deepEqual(await keyBundles(pool, []), []);
});

test('an older LiteLLM database without optional columns and tables still loads', async () => {
  const pool = await db('q_old');
  // As an early LiteLLM left it: no budget_id / organization_id / allowed_routes on keys, no
  // total_spend on memberships, no end-user, organization or model tables at all.
  await pool.query(`CREATE TABLE "LiteLLM_VerificationToken" (token TEXT PRIMARY KEY, spend DOUBLE PRECISION NOT NULL DEFAULT 0, expires TIMESTAMP(3),
                    models TEXT[], max_budget DOUBLE PRECISION, user_id TEXT, team_id TEXT, metadata JSONB NOT NULL DEFAULT '{}', tpd_limit BIGINT)`);
  await pool.query(`CREATE TABLE "LiteLLM_TeamTable" (team_id TEXT PRIMARY KEY, team_alias TEXT, spend DOUBLE PRECISION NOT NULL DEFAULT 0, models TEXT[], max_budget DOUBLE PRECISION)`);
  await pool.query(`CREATE TABLE "LiteLLM_TeamMembership" (user_id TEXT, team_id TEXT, spend DOUBLE PRECISION NOT NULL DEFAULT 0, budget_id TEXT, PRIMARY KEY (user_id, team_id))`);
  await pool.query(`CREATE TABLE "LiteLLM_UserTable" (user_id TEXT PRIMARY KEY, spend DOUBLE PRECISION NOT NULL DEFAULT 0, max_budget DOUBLE PRECISION)`);
  await pool.query(`CREATE TABLE "LiteLLM_BudgetTable" (budget_id TEXT PRIMARY KEY, max_budget DOUBLE PRECISION)`);
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, spend, models, max_budget, team_id, user_id, tpd_limit) VALUES ($1, 2, ARRAY['m'], 10, 't', 'u', 5)`, [K1]);
  await pool.query(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, spend) VALUES ('t', 'Old', 1)`);
  await pool.query(`INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend) VALUES ('u', 't', 0.5)`);
  await pool.query(`INSERT INTO "LiteLLM_UserTable" (user_id, spend) VALUES ('u', 0.75)`);
  const s = await loadAll(pool);
  assert.equal(s.keys[0]!.max_budget, 10);
  assert.equal(s.keys[0]!.budget_id, null);
  assert.deepEqual(s.keys[0]!.allowed_routes, []);
  assert.equal(s.teams[0]!.model_aliases, null);
  assert.equal(s.teamMembers[0]!.total_spend, null);
  assert.deepEqual(s.endUsers, []);
  assert.deepEqual(s.organizations, []);
  const b = await loadKey(pool, K1);
  assert.equal(b!.team!.team_alias, 'Old');
  assert.equal(b!.teamMember!.spend, 0.5);
});

test('timestamps are read as UTC whatever the process time zone', async () => {
  const pool = await db('q_tz');
  await ensureSchema(pool);
  const tz = process.env.TZ;
  process.env.TZ = 'America/New_York';
  try {
    await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, expires) VALUES ($1, '{}', '2035-01-02 03:04:05.678')`, [K1]);
    const s = await loadAll(pool);
    assert.equal(s.keys[0]!.expires!.toISOString(), '2035-01-02T03:04:05.678Z');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test('loadAll leaves out expired keys (agent runs leave one per run); loadKey still finds them', async () => {
  const pool = await db('q_expired');
  await ensureSchema(pool);
  const tz = process.env.TZ;
  process.env.TZ = 'America/New_York';
  try {
    const soon = new Date(Date.now() + 3 * 3600_000).toISOString().replace('T', ' ').replace('Z', '');
    const gone = new Date(Date.now() - 3 * 3600_000).toISOString().replace('T', ' ').replace('Z', '');
    await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, expires) VALUES ($1, '{}', $2), ($3, '{}', $4), ($5, '{}', NULL)`, [K1, soon, K2, gone, K3]);
    assert.deepEqual((await loadAll(pool)).keys.map((k) => k.token).sort(), [K1, K3], 'within three hours either way of the time zone');
    assert.ok(await loadKey(pool, K2), 'a worker that meets it looks it up');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test('dbReachable tells a live database from an absent one', async () => {
  const pool = await db('q_reach');
  assert.equal(await dbReachable(pool), true);
  const dead = createPool('postgres://x:y@127.0.0.1:1/none', { connectionTimeoutMs: 300 });
  pools.push(dead);
  assert.equal(await dbReachable(dead), false);
  const r = await pool.query(`SELECT current_setting('application_name') AS a`);
  assert.equal(r.rows[0].a, 'weir');
});
