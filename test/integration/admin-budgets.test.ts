// /budget/* against a real database.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
before(async () => {
  h = await harness('admin_budgets', { timezone: 'Asia/Kolkata' });
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

test('/budget/new: row with ids, audit columns and a reset aligned in the configured zone', async () => {
  h.changes.length = 0;
  const r = await h.ok('POST', '/budget/new', { budget_id: 'b1', max_budget: 10, soft_budget: 8, tpm_limit: 5, rpm_limit: 6, max_parallel_requests: 2, budget_duration: '1d', model_max_budget: { 'gpt-4o': { budget_limit: 1, time_period: '1d' } } }, { changedBy: 'ops' });
  assert.equal(r.budget_id, 'b1');
  assert.equal(r.max_budget, 10);
  assert.equal(r.soft_budget, 8);
  assert.equal(r.created_by, 'ops');
  assert.equal(r.updated_by, 'ops');
  assert.equal(r.created_at, '2025-03-12T15:30:00.000Z');
  // 15:30 UTC = 21:00 in Kolkata → next local midnight = 18:30 UTC.
  assert.equal(r.budget_reset_at, '2025-03-12T18:30:00.000Z');
  assert.deepEqual(h.changed('budget'), ['b1']);
  const gen = await h.ok('POST', '/budget/new', { max_budget: 1 });
  assert.match(gen.budget_id, /^[0-9a-f-]{36}$/);
  const explicit = await h.ok('POST', '/budget/new', { budget_reset_at: '2030-01-01T00:00:00Z' });
  assert.equal(explicit.budget_reset_at, '2030-01-01T00:00:00.000Z');
});

test('/budget/new: bad input', async () => {
  assert.equal((await h.fail(400, 'POST', '/budget/new', { budget_id: 'b1' })).param, 'budget_id');
  assert.equal((await h.fail(400, 'POST', '/budget/new', { max_budget: -0.5 })).param, 'max_budget');
  assert.equal((await h.fail(400, 'POST', '/budget/new', { budget_duration: '30x' })).param, 'budget_duration');
  assert.equal((await h.fail(422, 'POST', '/budget/new', { max_budget: '10' })).param, 'max_budget');
  assert.equal((await h.fail(422, 'POST', '/budget/new', { tpm_limit: 1.5 })).param, 'tpm_limit');
  assert.equal((await h.fail(400, 'POST', '/budget/new', { budget_reset_at: 'soon' })).param, 'budget_reset_at');
});

test('/budget/update, /budget/info, /budget/list', async () => {
  const u = await h.ok('POST', '/budget/update', { budget_id: 'b1', max_budget: 20, budget_duration: null });
  assert.equal(u.max_budget, 20);
  assert.equal(u.budget_duration, null);
  assert.equal(u.budget_reset_at, null);
  assert.equal(u.soft_budget, 8);
  await h.fail(404, 'POST', '/budget/update', { budget_id: 'nope', max_budget: 1 });
  await h.fail(422, 'POST', '/budget/update', { max_budget: 1 });
  const info = await h.ok('POST', '/budget/info', { budgets: ['b1', 'nope'] });
  assert.deepEqual(info.map((b: any) => b.budget_id), ['b1']);
  await h.fail(404, 'POST', '/budget/info', { budgets: ['nope'] });
  assert.equal((await h.ok('GET', '/budget/list')).length, 3);
});

test('/budget/delete: deletes; 404 when missing; 400 while an organization still uses it', async () => {
  const gen = await h.ok('POST', '/budget/new', { budget_id: 'tmp' });
  assert.equal((await h.ok('POST', '/budget/delete', { id: gen.budget_id })).budget_id, 'tmp');
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_BudgetTable" WHERE budget_id = 'tmp'`))[0].n, 0);
  await h.fail(404, 'POST', '/budget/delete', { id: 'tmp' });
  await h.ok('POST', '/organization/new', { organization_alias: 'uses b1', budget_id: 'b1' });
  await h.fail(400, 'POST', '/budget/delete', { id: 'b1' });
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_BudgetTable" WHERE budget_id = 'b1'`))[0].n, 1);
});
