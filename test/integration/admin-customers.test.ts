// /customer/* and /end_user/* against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
before(async () => {
  h = await harness('admin_customers');
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

const customer = async (id: string) => (await h.rows(`SELECT * FROM "LiteLLM_EndUserTable" WHERE user_id = $1`, [id]))[0];

test('/customer/new with budget fields creates a budget row', async () => {
  h.changes.length = 0;
  const r = await h.ok('POST', '/customer/new', { user_id: 'c1', alias: 'Cust', max_budget: 5, tpm_limit: 100, budget_duration: '1d', allowed_model_region: 'eu', default_model: 'gpt-4o' });
  assert.equal(r.user_id, 'c1');
  assert.equal(r.alias, 'Cust');
  assert.equal(r.blocked, false);
  assert.equal(r.spend, 0);
  assert.equal(r.allowed_model_region, 'eu');
  assert.equal(r.litellm_budget_table.max_budget, 5);
  assert.equal(r.litellm_budget_table.budget_reset_at, '2025-03-13T00:00:00.000Z');
  assert.equal((await customer('c1')).budget_id, r.budget_id);
  assert.deepEqual(h.changed('end_user'), ['c1']);
  assert.deepEqual(h.changed('budget'), [r.budget_id]);
});

test('/end_user/new is the same endpoint; budget_id links an existing budget', async () => {
  const b = await h.ok('POST', '/budget/new', { budget_id: 'shared', max_budget: 50 });
  const r = await h.ok('POST', '/end_user/new', { user_id: 'c2', budget_id: b.budget_id });
  assert.equal(r.litellm_budget_table.max_budget, 50);
  const plain = await h.ok('POST', '/customer/new', { user_id: 'c3' });
  assert.equal(plain.budget_id, null);
  assert.equal(plain.litellm_budget_table, null);
});

test('/customer/new: bad input', async () => {
  assert.equal((await h.fail(400, 'POST', '/customer/new', { user_id: 'c1' })).param, 'user_id');
  assert.equal((await h.fail(422, 'POST', '/customer/new', {})).param, 'user_id');
  assert.equal((await h.fail(400, 'POST', '/customer/new', { user_id: 'x', max_budget: -1 })).param, 'max_budget');
  assert.equal((await h.fail(400, 'POST', '/customer/new', { user_id: 'x', budget_duration: '30x' })).param, 'budget_duration');
  assert.equal((await h.fail(422, 'POST', '/customer/new', { user_id: 'x', allowed_model_region: 'mars' })).param, 'allowed_model_region');
  assert.equal((await h.fail(400, 'POST', '/customer/new', { user_id: 'x', budget_id: 'missing' })).param, 'budget_id');
  assert.equal((await h.fail(400, 'POST', '/customer/new', { user_id: 'x', budget_id: 'shared', max_budget: 1 })).param, 'budget_id');
  assert.equal((await h.fail(422, 'POST', '/customer/new', { user_id: 42 })).param, 'user_id');
  assert.equal(await customer('x'), undefined);
});

test('/customer/info and /end_user/info', async () => {
  const r = await h.ok('GET', '/customer/info?end_user_id=c1');
  assert.equal(r.user_id, 'c1');
  assert.equal(r.litellm_budget_table.max_budget, 5);
  assert.equal((await h.ok('GET', '/end_user/info?end_user_id=c2')).litellm_budget_table.budget_id, 'shared');
  await h.fail(404, 'GET', '/customer/info?end_user_id=nobody');
  await h.fail(400, 'GET', '/customer/info');
});

test('/customer/update: fields and the linked budget row', async () => {
  const before = await customer('c1');
  const r = await h.ok('POST', '/customer/update', { user_id: 'c1', alias: 'Renamed', max_budget: 8 });
  assert.equal(r.alias, 'Renamed');
  assert.equal(r.budget_id, before.budget_id);
  assert.equal(r.litellm_budget_table.max_budget, 8);
  const c3 = await h.ok('POST', '/customer/update', { user_id: 'c3', rpm_limit: 9 });
  assert.equal(c3.litellm_budget_table.rpm_limit, 9);
  await h.fail(404, 'POST', '/customer/update', { user_id: 'nobody', alias: 'x' });
  await h.fail(400, 'POST', '/customer/update', { user_id: 'c1', max_budget: -2 });
});

test('/customer/block (creates unknown ids) and /customer/unblock', async () => {
  const b = await h.ok('POST', '/customer/block', { user_ids: ['c1', 'new-one'] });
  assert.deepEqual(b.blocked_users.map((r: any) => [r.user_id, r.blocked]), [['c1', true], ['new-one', true]]);
  assert.equal((await customer('new-one')).blocked, true);
  const u = await h.ok('POST', '/end_user/unblock', { user_ids: ['c1'] });
  assert.equal(u.blocked_users[0].blocked, false);
  assert.equal((await customer('c1')).blocked, false);
  await h.fail(404, 'POST', '/customer/unblock', { user_ids: ['nobody'] });
  await h.fail(400, 'POST', '/customer/block', { user_ids: [] });
});

test('/customer/delete: 404 when any is missing (nothing deleted), else deleted', async () => {
  await h.fail(404, 'POST', '/customer/delete', { user_ids: ['c1', 'nobody'] });
  assert.ok(await customer('c1'));
  h.changes.length = 0;
  assert.deepEqual(await h.ok('POST', '/customer/delete', { user_ids: ['c1', 'c2'] }), { deleted_customers: ['c1', 'c2'] });
  assert.equal(await customer('c1'), undefined);
  assert.deepEqual(h.changed('end_user'), ['c1', 'c2']);
});
