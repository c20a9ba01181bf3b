// /team/* against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
before(async () => {
  h = await harness('admin_teams');
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

const team = async (id: string) => (await h.rows(`SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = $1`, [id]))[0];
const user = async (id: string) => (await h.rows(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1`, [id]))[0];
const membership = async (t: string, u: string) => (await h.rows(`SELECT * FROM "LiteLLM_TeamMembership" WHERE team_id = $1 AND user_id = $2`, [t, u]))[0];

test('/team/new: row, member budget, model aliases, members_with_roles, notifications', async () => {
  h.changes.length = 0;
  const r = await h.ok('POST', '/team/new', {
    team_id: 'alpha',
    team_alias: 'Alpha',
    max_budget: 100,
    budget_duration: '7d',
    models: ['gpt-4o'],
    tpm_limit: 1000,
    metadata: { env: 'prod' },
    tags: ['t1'],
    team_member_budget: 5,
    team_member_rpm_limit: 7,
    model_aliases: { fast: 'gpt-4o-mini' },
    members_with_roles: [{ role: 'admin', user_id: 'ann' }, { user_email: 'bob@example.com' }],
  });
  assert.equal(r.team_id, 'alpha');
  assert.equal(r.team_alias, 'Alpha');
  assert.equal(r.max_budget, 100);
  assert.equal(r.budget_reset_at, '2025-03-17T00:00:00.000Z');
  assert.equal(r.created_at, '2025-03-12T15:30:00.000Z');
  assert.equal(r.blocked, false);
  assert.equal(r.members_with_roles.length, 2);
  assert.deepEqual(r.members_with_roles[0], { role: 'admin', user_id: 'ann', user_email: null });
  assert.equal(r.members_with_roles[1].role, 'user');
  assert.equal(r.members_with_roles[1].user_email, 'bob@example.com');
  const bobId = r.members_with_roles[1].user_id;
  assert.match(bobId, /^[0-9a-f-]{36}$/);
  assert.equal(r.metadata.env, 'prod');
  assert.deepEqual(r.metadata.tags, ['t1']);
  const mb = (await h.rows(`SELECT * FROM "LiteLLM_BudgetTable" WHERE budget_id = $1`, [r.metadata.team_member_budget_id]))[0];
  assert.equal(mb.max_budget, 5);
  assert.equal(Number(mb.rpm_limit), 7);
  const alias = (await h.rows(`SELECT aliases FROM "LiteLLM_ModelTable" WHERE id = $1`, [r.model_id]))[0];
  assert.deepEqual(alias.aliases, { fast: 'gpt-4o-mini' });
  assert.deepEqual((await user('ann')).teams, ['alpha']);
  assert.equal((await user('ann')).user_role, 'internal_user');
  assert.equal((await user(bobId)).user_email, 'bob@example.com');
  assert.equal((await membership('alpha', 'ann')).budget_id, r.metadata.team_member_budget_id);
  assert.deepEqual(h.changed('team'), ['alpha']); // one notification per id per commit
  assert.deepEqual(h.changed('user').sort(), ['ann', bobId].sort());
  assert.deepEqual(h.changed('team_membership').sort(), ['alpha:ann', `alpha:${bobId}`].sort());
});

test('/team/new: bad input', async () => {
  assert.equal((await h.fail(400, 'POST', '/team/new', { team_id: 'alpha' })).param, 'team_id');
  assert.equal((await h.fail(400, 'POST', '/team/new', { organization_id: 'no-org' })).param, 'organization_id');
  assert.equal((await h.fail(400, 'POST', '/team/new', { max_budget: -1 })).param, 'max_budget');
  assert.equal((await h.fail(400, 'POST', '/team/new', { team_member_budget: -1 })).param, 'team_member_budget');
  assert.equal((await h.fail(400, 'POST', '/team/new', { budget_duration: '30x' })).param, 'budget_duration');
  assert.equal((await h.fail(422, 'POST', '/team/new', { models: 'all' })).param, 'models');
  assert.equal((await h.fail(422, 'POST', '/team/new', { members_with_roles: [{ role: 'owner', user_id: 'x' }] })).param, 'members_with_roles.0.role');
  assert.equal((await h.fail(400, 'POST', '/team/new', { members_with_roles: [{ role: 'user' }] })).param, 'members_with_roles.0.user_id');
  assert.equal((await h.fail(400, 'POST', '/team/new', { metadata: { x: 'y'.repeat(66000) } })).param, 'metadata');
});

test('/team/new is atomic: a failing member leaves no team, user or budget behind', async () => {
  const budgets = (await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_BudgetTable"`))[0].n;
  const e = await h.fail(400, 'POST', '/team/new', {
    team_id: 'half',
    team_member_budget: 1,
    members_with_roles: [{ user_id: 'carol' }, { user_id: 'carol' }],
  });
  assert.match(e.message, /already a member/);
  assert.equal(await team('half'), undefined);
  assert.equal(await user('carol'), undefined);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_BudgetTable"`))[0].n, budgets);
});

test('/team/update: {team_id, data}; member budget row updated in place; 404', async () => {
  const before = await team('alpha');
  h.setNow('2025-03-13T00:00:00.000Z');
  const r = await h.ok('POST', '/team/update', { team_id: 'alpha', max_budget: 50, metadata: { env: 'dev' }, team_member_budget: 6, budget_duration: '1d' });
  h.setNow('2025-03-12T15:30:00.000Z');
  assert.equal(r.team_id, 'alpha');
  assert.equal(r.data.max_budget, 50);
  assert.equal(r.data.budget_reset_at, '2025-03-14T00:00:00.000Z');
  assert.equal(r.data.metadata.env, 'dev');
  assert.equal(r.data.metadata.team_member_budget_id, before.metadata.team_member_budget_id);
  const mb = (await h.rows(`SELECT max_budget FROM "LiteLLM_BudgetTable" WHERE budget_id = $1`, [before.metadata.team_member_budget_id]))[0];
  assert.equal(mb.max_budget, 6);
  assert.equal(r.data.updated_at, '2025-03-13T00:00:00.000Z');
  await h.fail(404, 'POST', '/team/update', { team_id: 'nope', max_budget: 1 });
  await h.fail(422, 'POST', '/team/update', { max_budget: 1 });
  await h.fail(400, 'POST', '/team/update', { team_id: 'alpha', tpm_limit: -5 });
});

test('/team/member_add: new and existing users, lists, max_budget_in_team, duplicates', async () => {
  await h.ok('POST', '/team/new', { team_id: 'beta' });
  await h.ok('POST', '/user/new', { user_id: 'dave', user_email: 'dave@example.com', auto_create_key: false });
  h.changes.length = 0;
  const r = await h.ok('POST', '/team/member_add', { team_id: 'beta', member: [{ role: 'user', user_email: 'dave@example.com' }, { role: 'admin', user_id: 'erin' }], max_budget_in_team: 12 });
  assert.equal(r.team_id, 'beta');
  assert.deepEqual(r.members_with_roles.map((m: any) => [m.user_id, m.role]), [['dave', 'user'], ['erin', 'admin']]);
  assert.deepEqual(r.updated_users.map((u: any) => u.user_id), ['dave', 'erin']);
  assert.equal(r.updated_team_memberships.length, 2);
  assert.equal(r.updated_team_memberships[0].litellm_budget_table.max_budget, 12);
  assert.notEqual(r.updated_team_memberships[0].budget_id, r.updated_team_memberships[1].budget_id);
  assert.deepEqual((await user('dave')).teams, ['beta']);
  assert.deepEqual((await user('erin')).teams, ['beta']);
  assert.equal((await membership('beta', 'erin')).spend, 0);
  assert.deepEqual(h.changed('team_membership').sort(), ['beta:dave', 'beta:erin']);
  const dup = await h.fail(400, 'POST', '/team/member_add', { team_id: 'beta', member: { role: 'user', user_id: 'dave' } });
  assert.match(dup.message, /already a member/);
  await h.fail(404, 'POST', '/team/member_add', { team_id: 'nope', member: { role: 'user', user_id: 'dave' } });
  await h.fail(400, 'POST', '/team/member_add', { team_id: 'beta', member: { role: 'user', user_id: 'zed' }, max_budget_in_team: -1 });
  await h.fail(422, 'POST', '/team/member_add', { team_id: 'beta' });
  assert.equal(await user('zed'), undefined);
});

test('/team/member_update: role and member budget', async () => {
  const r = await h.ok('POST', '/team/member_update', { team_id: 'beta', user_id: 'dave', role: 'admin', max_budget_in_team: 20, rpm_limit: 3 });
  assert.deepEqual(r, { team_id: 'beta', user_id: 'dave', user_email: 'dave@example.com', role: 'admin', max_budget_in_team: 20, tpm_limit: null, rpm_limit: 3 });
  const t = await team('beta');
  assert.equal(t.members_with_roles.find((m: any) => m.user_id === 'dave').role, 'admin');
  const b = (await h.rows(`SELECT b.max_budget, b.rpm_limit FROM "LiteLLM_TeamMembership" m JOIN "LiteLLM_BudgetTable" b USING (budget_id) WHERE m.team_id = 'beta' AND m.user_id = 'dave'`))[0];
  assert.equal(b.max_budget, 20);
  await h.fail(400, 'POST', '/team/member_update', { team_id: 'beta', user_id: 'stranger', role: 'admin' });
  await h.fail(400, 'POST', '/team/member_update', { team_id: 'beta', user_id: 'dave', max_budget_in_team: -2 });
});

test('/team/member_delete: membership, user.teams and members_with_roles all updated', async () => {
  const r = await h.ok('POST', '/team/member_delete', { team_id: 'beta', user_email: 'dave@example.com' });
  assert.deepEqual(r.members_with_roles.map((m: any) => m.user_id), ['erin']);
  assert.deepEqual((await user('dave')).teams, []);
  assert.equal(await membership('beta', 'dave'), undefined);
  await h.fail(400, 'POST', '/team/member_delete', { team_id: 'beta', user_id: 'dave' });
  await h.fail(400, 'POST', '/team/member_delete', { team_id: 'beta' });
});

test('/team/block and /team/unblock', async () => {
  assert.equal((await h.ok('POST', '/team/block', { team_id: 'beta' })).blocked, true);
  assert.equal((await team('beta')).blocked, true);
  assert.equal((await h.ok('POST', '/team/unblock', { team_id: 'beta' })).blocked, false);
  await h.fail(404, 'POST', '/team/block', { team_id: 'nope' });
});

test('/team/info and /team/list', async () => {
  const k = await h.ok('POST', '/key/generate', { team_id: 'alpha', key_alias: 'alpha-key' });
  const info = await h.ok('GET', '/team/info?team_id=alpha');
  assert.equal(info.team_id, 'alpha');
  assert.equal(info.team_info.team_alias, 'Alpha');
  assert.equal(info.team_info.team_member_budget_table.max_budget, 6);
  assert.deepEqual(info.keys.map((x: any) => x.token), [k.token]);
  assert.equal(info.team_memberships.length, 2);
  assert.equal(info.team_memberships[0].litellm_budget_table.max_budget, 6);
  await h.fail(400, 'GET', '/team/info');
  await h.fail(404, 'GET', '/team/info?team_id=nope');
  const all = await h.ok('GET', '/team/list');
  assert.deepEqual(all.map((t: any) => t.team_id).sort(), ['alpha', 'beta']);
  assert.equal(all.find((t: any) => t.team_id === 'alpha').keys.length, 1);
  const ann = await h.ok('GET', '/team/list?user_id=ann');
  assert.deepEqual(ann.map((t: any) => t.team_id), ['alpha']);
});

test('/team/delete: keys archived, memberships and user.teams cleaned, audit copy; 404 atomic', async () => {
  const e = await h.fail(404, 'POST', '/team/delete', { team_ids: ['alpha', 'ghost'] });
  assert.match(e.message, /ghost/);
  assert.ok(await team('alpha'));
  const key = (await h.rows(`SELECT token FROM "LiteLLM_VerificationToken" WHERE team_id = 'alpha'`))[0].token;
  h.changes.length = 0;
  const r = await h.ok('POST', '/team/delete', { team_ids: ['alpha'] });
  assert.deepEqual(r, { deleted_teams: ['alpha'] });
  assert.equal(await team('alpha'), undefined);
  assert.deepEqual((await user('ann')).teams, []);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_TeamMembership" WHERE team_id = 'alpha'`))[0].n, 0);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE team_id = 'alpha'`))[0].n, 0);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_DeletedVerificationToken" WHERE token = $1`, [key]))[0].n, 1);
  const copy = (await h.rows(`SELECT team_alias, deleted_by FROM "LiteLLM_DeletedTeamTable" WHERE team_id = 'alpha'`))[0];
  assert.deepEqual(copy, { team_alias: 'Alpha', deleted_by: 'default_user_id' });
  assert.deepEqual(h.changed('team'), ['alpha']);
  assert.deepEqual(h.changed('key'), [key]);
  assert.ok(h.changed('user').includes('ann'));
  await h.fail(400, 'POST', '/team/delete', { team_ids: [] });
  await h.fail(422, 'POST', '/team/delete', { team_ids: 'alpha' });
});
