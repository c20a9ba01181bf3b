// /organization/* against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
before(async () => {
  h = await harness('admin_orgs');
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

const org = async (id: string) => (await h.rows(`SELECT * FROM "LiteLLM_OrganizationTable" WHERE organization_id = $1`, [id]))[0];

test('/organization/new: every organization gets a budget row', async () => {
  h.changes.length = 0;
  const r = await h.ok('POST', '/organization/new', { organization_id: 'o1', organization_alias: 'Org 1', models: ['gpt-4o'], max_budget: 100, rpm_limit: 10, metadata: { a: 1 }, model_rpm_limit: { 'gpt-4o': 3 } });
  assert.equal(r.organization_id, 'o1');
  assert.equal(r.organization_alias, 'Org 1');
  assert.deepEqual(r.models, ['gpt-4o']);
  assert.equal(r.created_by, 'default_user_id');
  assert.equal(r.created_at, '2025-03-12T15:30:00.000Z');
  assert.equal(r.litellm_budget_table.max_budget, 100);
  assert.deepEqual(r.metadata, { a: 1, model_rpm_limit: { 'gpt-4o': 3 } });
  assert.equal((await org('o1')).budget_id, r.budget_id);
  assert.deepEqual(h.changed('organization'), ['o1']);
  const bare = await h.ok('POST', '/organization/new', { organization_alias: 'Bare' });
  assert.ok(bare.budget_id);
  assert.equal(bare.litellm_budget_table.max_budget, null);
});

test('/organization/new: bad input', async () => {
  assert.equal((await h.fail(422, 'POST', '/organization/new', {})).param, 'organization_alias');
  assert.equal((await h.fail(422, 'POST', '/organization/new', { organization_alias: null })).param, 'organization_alias');
  assert.equal((await h.fail(400, 'POST', '/organization/new', { organization_id: 'o1', organization_alias: 'dup' })).param, 'organization_id');
  assert.equal((await h.fail(400, 'POST', '/organization/new', { organization_alias: 'x', max_budget: -1 })).param, 'max_budget');
  assert.equal((await h.fail(400, 'POST', '/organization/new', { organization_alias: 'x', budget_duration: '30x' })).param, 'budget_duration');
  assert.equal((await h.fail(400, 'POST', '/organization/new', { organization_alias: 'x', budget_id: 'missing' })).param, 'budget_id');
});

test('/organization/update changes the row and its budget row', async () => {
  const before = await org('o1');
  const r = await h.ok('POST', '/organization/update', { organization_id: 'o1', organization_alias: 'Org One', max_budget: 200, budget_duration: '7d' });
  assert.equal(r.organization_alias, 'Org One');
  assert.equal(r.budget_id, before.budget_id);
  assert.equal(r.litellm_budget_table.max_budget, 200);
  assert.equal(r.litellm_budget_table.budget_reset_at, '2025-03-17T00:00:00.000Z');
  await h.fail(404, 'POST', '/organization/update', { organization_id: 'nope', organization_alias: 'x' });
  await h.fail(400, 'POST', '/organization/update', { organization_id: 'o1', organization_alias: null });
});

test('/organization/member_add creates users and memberships (with a budget)', async () => {
  const r = await h.ok('POST', '/organization/member_add', { organization_id: 'o1', member: [{ role: 'org_admin', user_id: 'oa' }, { role: 'internal_user', user_email: 'iu@example.com' }], max_budget_in_organization: 7 });
  assert.equal(r.organization_id, 'o1');
  assert.deepEqual(r.updated_users.map((u: any) => u.user_role), ['org_admin', 'internal_user']);
  assert.equal(r.updated_organization_memberships.length, 2);
  assert.equal(r.updated_organization_memberships[0].user_role, 'org_admin');
  assert.equal(r.updated_organization_memberships[0].litellm_budget_table.max_budget, 7);
  const rows = await h.rows(`SELECT user_id, user_role FROM "LiteLLM_OrganizationMembership" WHERE organization_id = 'o1' ORDER BY user_role`);
  assert.deepEqual(rows.map((x) => x.user_role), ['internal_user', 'org_admin']);
  await h.fail(422, 'POST', '/organization/member_add', { organization_id: 'o1', member: { role: 'king', user_id: 'x' } });
  await h.fail(404, 'POST', '/organization/member_add', { organization_id: 'nope', member: { role: 'internal_user', user_id: 'x' } });
  await h.fail(400, 'POST', '/organization/member_add', { organization_id: 'o1', member: { role: 'internal_user' } });
});

test('/organization/info (GET and POST) and /organization/list', async () => {
  await h.ok('POST', '/team/new', { team_id: 'ot', organization_id: 'o1' });
  const info = await h.ok('GET', '/organization/info?organization_id=o1');
  assert.equal(info.organization_alias, 'Org One');
  assert.equal(info.members.length, 2);
  assert.deepEqual(info.teams.map((t: any) => t.team_id), ['ot']);
  assert.equal(info.litellm_budget_table.max_budget, 200);
  const many = await h.ok('POST', '/organization/info', { organizations: ['o1'] });
  assert.equal(many.length, 1);
  await h.fail(404, 'GET', '/organization/info?organization_id=nope');
  assert.equal((await h.ok('GET', '/organization/list')).length, 2);
});

test('/organization/delete: references cleared, memberships removed; 404 atomic', async () => {
  await h.ok('POST', '/key/generate', { organization_id: 'o1', key_alias: 'org-key' });
  await h.fail(404, 'POST', '/organization/delete', { organization_ids: ['o1', 'nope'] });
  assert.ok(await org('o1'));
  h.changes.length = 0;
  const r = await h.ok('POST', '/organization/delete', { organization_ids: ['o1'] });
  assert.equal(r[0].organization_id, 'o1');
  assert.equal(await org('o1'), undefined);
  assert.equal((await h.rows(`SELECT organization_id FROM "LiteLLM_TeamTable" WHERE team_id = 'ot'`))[0].organization_id, null);
  assert.equal((await h.rows(`SELECT organization_id FROM "LiteLLM_VerificationToken" WHERE key_alias = 'org-key'`))[0].organization_id, null);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_OrganizationMembership" WHERE organization_id = 'o1'`))[0].n, 0);
  assert.deepEqual(h.changed('organization'), ['o1']);
  assert.deepEqual(h.changed('team'), ['ot']);
});
