// Server-side pages and search for the lists the admin page reads: /team/list, /organization/list,
// /customer/list and /budget/list answer LiteLLM's plain array without `page`/`page_size`, one page
// with its counts with them; /key/list's `search` matches part of an alias, key name, user or team.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

let h: Harness;
before(async () => {
  h = await harness('admin_list_pages');
  for (let i = 1; i <= 5; i++) {
    h.setNow(`2025-03-12T15:3${i}:00.000Z`);
    await h.ok('POST', '/team/new', { team_id: `team-${i}`, team_alias: i === 4 ? 'Blue 100%_off' : `Red ${i}` });
    await h.ok('POST', '/organization/new', { organization_id: `org-${i}`, organization_alias: i === 2 ? 'Acme West' : `Other ${i}` });
    await h.ok('POST', '/customer/new', { user_id: `cust-${i}`, alias: i === 3 ? 'Big Buyer' : null });
    await h.ok('POST', '/budget/new', { budget_id: `budget-${i}`, max_budget: i });
  }
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

test('without page or page_size the lists answer every row as an array (LiteLLM)', async () => {
  assert.equal((await h.ok('GET', '/team/list')).length, 5);
  assert.equal((await h.ok('GET', '/organization/list')).length, 5);
  assert.equal((await h.ok('GET', '/customer/list')).length, 5);
  // Organizations made budget rows of their own as well.
  const budgets = Number((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_BudgetTable"`))[0].n);
  assert.ok(budgets >= 5);
  assert.equal((await h.ok('GET', '/budget/list')).length, budgets);
});

test('page and page_size: one page in order with total and total_pages', async () => {
  const t = await h.ok('GET', '/team/list?page=2&page_size=2');
  assert.deepEqual(t.teams.map((r: any) => r.team_id), ['team-3', 'team-4']);
  assert.deepEqual([t.total, t.page, t.page_size, t.total_pages], [5, 2, 2, 3]);
  assert.deepEqual(t.teams[0].keys, []);
  const o = await h.ok('GET', '/organization/list?page=3&page_size=2');
  assert.deepEqual(o.organizations.map((r: any) => r.organization_id), ['org-5']);
  assert.equal(o.total, 5);
  const c = await h.ok('GET', '/customer/list?page_size=3');
  assert.deepEqual(c.customers.map((r: any) => r.user_id), ['cust-1', 'cust-2', 'cust-3']);
  assert.equal(c.page, 1);
  const b = await h.ok('GET', '/budget/list?page=1');
  assert.deepEqual(b.budgets.map((r: any) => r.budget_id), (await h.ok('GET', '/budget/list')).map((r: any) => r.budget_id)); // the whole list's order
  assert.equal(b.page_size, 25);
  assert.equal(b.total, b.budgets.length);
  const past = await h.ok('GET', '/team/list?page=9&page_size=2');
  assert.deepEqual([past.teams.length, past.total], [0, 5]);
});

test('search by part of a name, any case, with % and _ matched literally', async () => {
  assert.deepEqual((await h.ok('GET', '/team/list?team_alias=red')).map((r: any) => r.team_id), ['team-1', 'team-2', 'team-3', 'team-5']);
  assert.deepEqual((await h.ok('GET', '/team/list?team_alias=100%25_&page=1')).teams.map((r: any) => r.team_id), ['team-4']);
  assert.deepEqual((await h.ok('GET', '/team/list?team_alias=%25')).map((r: any) => r.team_id), ['team-4']);
  assert.deepEqual((await h.ok('GET', '/organization/list?org_alias=acme')).map((r: any) => r.organization_id), ['org-2']);
  assert.deepEqual((await h.ok('GET', '/organization/list?org_id=org-5')).map((r: any) => r.organization_id), ['org-5']);
  assert.deepEqual((await h.ok('GET', '/customer/list?search=BUYER')).map((r: any) => r.user_id), ['cust-3']);
  assert.deepEqual((await h.ok('GET', '/customer/list?search=cust-5&page=1')).customers.map((r: any) => r.user_id), ['cust-5']);
});

test('/key/list search: part of the alias, the key name, the user or the team', async () => {
  const a = await h.ok('POST', '/key/generate', { key_alias: 'Deploy bot' });
  const b = await h.ok('POST', '/key/generate', { team_id: 'team-2' });
  await h.ok('POST', '/user/new', { user_id: 'carol' });
  const c = (await h.ok('GET', '/user/info?user_id=carol')).keys[0];
  const d = await h.ok('POST', '/key/generate', { key: 'sk-unique-tail-zq9x' });
  const found = async (s: string) => (await h.ok('GET', `/key/list?search=${encodeURIComponent(s)}`)).keys.sort();
  assert.deepEqual(await found('deploy'), [a.token_id]);
  assert.deepEqual(await found('TEAM-2'), [b.token_id]);
  assert.deepEqual(await found('caro'), [c.token]);
  assert.deepEqual(await found('zq9x'), [d.token_id]);
  // `_` is matched as itself, not as SQL's one-character wildcard (which would match "Deploy bot"'s
  // space). A lone `_` is no test of that: random key names contain it.
  assert.deepEqual(await found('deploy_bot'), []);
  const all = await h.ok('GET', '/key/list?search=%25&size=1');
  assert.deepEqual([all.keys.length, all.total_count], [0, 0]);
});

test('bad page parameters answer 422 naming the parameter', async () => {
  assert.equal((await h.fail(422, 'GET', '/team/list?page=0')).param, 'page');
  assert.equal((await h.fail(422, 'GET', '/budget/list?page_size=101')).param, 'page_size');
  assert.equal((await h.fail(422, 'GET', '/customer/list?page=x')).param, 'page');
  assert.equal((await h.fail(422, 'GET', '/organization/list?page_size=0')).param, 'page_size');
});
