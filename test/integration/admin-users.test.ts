// /user/* against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';
import { verifyLiteLLMPassword } from '../../src/ui/password';

let h: Harness;
before(async () => {
  h = await harness('admin_users');
  await h.ok('POST', '/team/new', { team_id: 'tA' });
  await h.ok('POST', '/team/new', { team_id: 'tB' });
  await h.ok('POST', '/organization/new', { organization_id: 'org1', organization_alias: 'Org One' });
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

const user = async (id: string) => (await h.rows(`SELECT * FROM "LiteLLM_UserTable" WHERE user_id = $1`, [id]))[0];

test('/user/new: user row plus an auto-created key (NewUserResponse)', async () => {
  h.changes.length = 0;
  const r = await h.ok('POST', '/user/new', {
    user_id: 'u1',
    user_email: 'u1@example.com',
    user_role: 'internal_user',
    max_budget: 20,
    budget_duration: '1mo',
    models: ['gpt-4o'],
    teams: ['tA', { team_id: 'tB', max_budget_in_team: 4, user_role: 'admin' }],
    organizations: ['org1'],
    duration: '1d',
    key_alias: 'u1-key',
    password: 'correct-horse',
  });
  assert.match(r.key, /^sk-/);
  assert.equal(r.token, createHash('sha256').update(r.key).digest('hex'));
  assert.equal(r.key_alias, 'u1-key');
  assert.equal(r.expires, '2025-03-13T15:30:00.000Z');
  assert.equal(r.user_id, 'u1');
  assert.equal(r.user_email, 'u1@example.com');
  assert.equal(r.user_role, 'internal_user');
  assert.equal(r.max_budget, 20);
  assert.equal(r.budget_reset_at, '2025-04-01T00:00:00.000Z');
  assert.deepEqual(r.teams, ['tA', 'tB']);
  assert.equal('password' in r, false);
  const row = await user('u1');
  // Stored as a salted scrypt hash LiteLLM's login reads, never in clear.
  assert.match(row.password, /^scrypt:[0-9a-f]{32}:[0-9a-f]{128}$/);
  assert.equal(await verifyLiteLLMPassword('correct-horse', row.password), true);
  assert.equal(await verifyLiteLLMPassword('correct-horsf', row.password), false);
  assert.deepEqual(row.teams, ['tA', 'tB']);
  const key = (await h.rows(`SELECT user_id, models FROM "LiteLLM_VerificationToken" WHERE token = $1`, [r.token]))[0];
  assert.deepEqual(key, { user_id: 'u1', models: ['gpt-4o'] });
  const ms = await h.rows(`SELECT m.team_id, b.max_budget FROM "LiteLLM_TeamMembership" m LEFT JOIN "LiteLLM_BudgetTable" b USING (budget_id) WHERE user_id = 'u1' ORDER BY team_id`);
  assert.deepEqual(ms, [{ team_id: 'tA', max_budget: null }, { team_id: 'tB', max_budget: 4 }]);
  const tB = (await h.rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'tB'`))[0];
  assert.deepEqual(tB.members_with_roles, [{ role: 'admin', user_id: 'u1', user_email: 'u1@example.com' }]);
  const om = (await h.rows(`SELECT user_role FROM "LiteLLM_OrganizationMembership" WHERE user_id = 'u1' AND organization_id = 'org1'`))[0];
  assert.equal(om.user_role, 'internal_user');
  assert.ok(h.changed('user').includes('u1'));
  assert.deepEqual(h.changed('key'), [r.token]);
});

test('/user/new: auto_create_key false, generated user_id, roles', async () => {
  const r = await h.ok('POST', '/user/new', { auto_create_key: false, user_role: 'proxy_admin_viewer' });
  assert.equal(r.key, null);
  assert.match(r.user_id, /^[0-9a-f-]{36}$/);
  assert.equal((await user(r.user_id)).user_role, 'proxy_admin_viewer');
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE user_id = $1`, [r.user_id]))[0].n, 0);
});

test('/user/new: bad input, nothing written', async () => {
  const users = (await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_UserTable"`))[0].n;
  assert.equal((await h.fail(400, 'POST', '/user/new', { user_id: 'u1' })).param, 'user_id');
  assert.equal((await h.fail(400, 'POST', '/user/new', { user_email: 'u1@example.com' })).param, 'user_email');
  assert.equal((await h.fail(400, 'POST', '/user/new', { teams: ['tA', 'no-team'] })).param, 'teams');
  assert.equal((await h.fail(400, 'POST', '/user/new', { organizations: ['no-org'] })).param, 'organizations');
  assert.equal((await h.fail(422, 'POST', '/user/new', { user_role: 'god' })).param, 'user_role');
  assert.equal((await h.fail(400, 'POST', '/user/new', { max_budget: -1 })).param, 'max_budget');
  assert.equal((await h.fail(400, 'POST', '/user/new', { budget_duration: '30x' })).param, 'budget_duration');
  assert.equal((await h.fail(400, 'POST', '/user/new', { duration: '30x' })).param, 'duration');
  assert.equal((await h.fail(400, 'POST', '/user/new', { password: 'short' })).param, 'password');
  assert.equal((await h.fail(422, 'POST', '/user/new', { models: [true] })).param, 'models.0');
  assert.equal((await h.fail(400, 'POST', '/user/new', { metadata: { big: 'z'.repeat(65537) } })).param, 'metadata');
  // the key's alias collides: the user row is rolled back with it
  await h.ok('POST', '/key/generate', { key_alias: 'taken' });
  assert.match((await h.fail(400, 'POST', '/user/new', { user_id: 'ghost', key_alias: 'taken' })).message, /alias 'taken'/);
  assert.equal(await user('ghost'), undefined);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_UserTable"`))[0].n, users);
});

test('/user/update: by id or email; {user_id, data}; 404', async () => {
  h.setNow('2025-03-20T08:00:00.000Z');
  const r = await h.ok('POST', '/user/update', { user_id: 'u1', max_budget: 30, user_alias: 'Uno', budget_duration: '1d', metadata: { k: 'v' } });
  h.setNow('2025-03-12T15:30:00.000Z');
  assert.equal(r.user_id, 'u1');
  assert.equal(r.data.max_budget, 30);
  assert.equal(r.data.user_alias, 'Uno');
  assert.equal(r.data.budget_reset_at, '2025-03-21T00:00:00.000Z');
  assert.equal(r.data.updated_at, '2025-03-20T08:00:00.000Z');
  const byEmail = await h.ok('POST', '/user/update', { user_email: 'u1@example.com', user_role: 'proxy_admin' });
  assert.equal(byEmail.data.user_role, 'proxy_admin');
  await h.fail(404, 'POST', '/user/update', { user_id: 'nobody', max_budget: 1 });
  await h.fail(400, 'POST', '/user/update', { max_budget: 1 });
  await h.fail(400, 'POST', '/user/update', { user_id: 'u1', tpm_limit: -1 });
  await h.ok('POST', '/user/new', { user_id: 'u2', user_email: 'u2@example.com', auto_create_key: false });
  assert.equal((await h.fail(400, 'POST', '/user/update', { user_id: 'u2', user_email: 'u1@example.com' })).param, 'user_email');
});

test('/user/info and /user/list', async () => {
  const info = await h.ok('GET', '/user/info?user_id=u1');
  assert.equal(info.user_id, 'u1');
  assert.equal(info.user_info.user_email, 'u1@example.com');
  assert.equal('password' in info.user_info, false);
  assert.equal(info.keys.length, 1);
  assert.deepEqual(info.teams.map((t: any) => t.team_id).sort(), ['tA', 'tB']);
  await h.fail(404, 'GET', '/user/info?user_id=nobody');
  await h.fail(400, 'GET', '/user/info');
  const list = await h.ok('GET', '/user/list?page=1&page_size=2');
  assert.equal(list.page, 1);
  assert.equal(list.page_size, 2);
  assert.equal(list.users.length, 2);
  assert.ok(list.total >= 3);
  assert.equal(list.total_pages, Math.ceil(list.total / 2));
  const admins = await h.ok('GET', '/user/list?role=proxy_admin');
  assert.deepEqual(admins.users.map((u: any) => [u.user_id, u.key_count]), [['u1', 1]]);
  const some = await h.ok('GET', '/user/list?user_ids=u1,u2');
  assert.deepEqual(some.users.map((u: any) => u.user_id).sort(), ['u1', 'u2']);
  await h.fail(400, 'GET', '/user/list?role=god');
  await h.fail(422, 'GET', '/user/list?page_size=1000');
});

test('/user/delete: keys archived, memberships and team member lists cleaned; 404 atomic', async () => {
  await h.fail(404, 'POST', '/user/delete', { user_ids: ['u1', 'nobody'] });
  assert.ok(await user('u1'));
  const token = (await h.rows(`SELECT token FROM "LiteLLM_VerificationToken" WHERE user_id = 'u1'`))[0].token;
  h.changes.length = 0;
  assert.deepEqual(await h.ok('POST', '/user/delete', { user_ids: ['u1'] }), { deleted_users: ['u1'] });
  assert.equal(await user('u1'), undefined);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_TeamMembership" WHERE user_id = 'u1'`))[0].n, 0);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_OrganizationMembership" WHERE user_id = 'u1'`))[0].n, 0);
  assert.deepEqual((await h.rows(`SELECT members_with_roles FROM "LiteLLM_TeamTable" WHERE team_id = 'tB'`))[0].members_with_roles, []);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_DeletedVerificationToken" WHERE token = $1`, [token]))[0].n, 1);
  assert.deepEqual(h.changed('key'), [token]);
  assert.ok(h.changed('team').includes('tB'));
  assert.deepEqual(h.changed('user'), ['u1']);
});
