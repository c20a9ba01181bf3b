// Budgets, reserve-then-settle, end to end: concurrent requests over fresh connections against the
// real gateway (2 workers) never pass more than the budget allows, for every entity a request is
// charged to, and the spend written to PostgreSQL is exactly what was answered.
//
// Every call here is a non-stream `gpt` call with max_tokens = 4: the gateway reserves
// body-bytes × 0 + 4 × OUT_PRICE and the mock's answer costs 4 completion tokens × OUT_PRICE, so
// the reservation equals the cost and a budget of n × CALL_COST fits exactly n calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Answer, type Weir, CALL_COST, MASTER_KEY, adminOk, bearer, burst, call, chat, closeAll, dbPool, governanceConfig, one, startMock, startWeirOn, tally, waitFor, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('gov_budgets');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
  pool = dbPool(db);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

/** n concurrent calls; returns the answers after checking every one is a 200 or a 429 budget_exceeded. */
async function race(n: number, one: () => Promise<Answer>): Promise<{ ok: Answer[]; refused: Answer[] }> {
  const rs = await burst(n, one);
  const ok = rs.filter((r) => r.status === 200);
  const refused = rs.filter((r) => r.status === 429);
  assert.equal(ok.length + refused.length, n, `unexpected answers: ${JSON.stringify(tally(rs))} ${rs.find((r) => r.status !== 200 && r.status !== 429)?.text}`);
  for (const r of refused) assert.equal(r.json.error.type, 'budget_exceeded', r.text);
  return { ok, refused };
}

async function spendOf(table: string, col: string, id: string, on: Pool = pool): Promise<number> {
  return Number((await one(on, `SELECT spend FROM "${table}" WHERE "${col}" = $1`, [id]))?.spend ?? NaN);
}

/** Waits until the entity's `spend` column in PostgreSQL reads `want`. */
async function waitSpend(table: string, col: string, id: string, want: number, on: Pool = pool): Promise<void> {
  await waitFor(`${table}.spend of ${id} = ${want}`, async () => close(await spendOf(table, col, id, on), want), 10_000, 100);
}

test('key max_budget: 500 concurrent calls on both workers, room for 100 → exactly 100 pass', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 100 * CALL_COST, key_alias: 'budget-100' });
  const { ok, refused } = await race(500, () => chat(weir.url, k.key));
  assert.equal(ok.length, 100, `passed: ${ok.length}`);
  assert.equal(refused.length, 400);
  assert.match(refused[0]!.json.error.message, /^Budget has been exceeded! Key=budget-100 Current cost: [\d.e-]+, Max budget: 0\.4\. This call reserves 0\.004 USD until it settles: \d+ input tokens estimated from \d+ bytes at 2 bytes per token, and 4 output tokens from max_tokens\.$/);
  for (const r of ok) assert.equal(Number(r.headers['x-litellm-response-cost']), CALL_COST);
  // Settled: the next call is refused too, and nothing more reached the upstream than was answered.
  assert.equal((await chat(weir.url, k.key)).status, 429);
  // After the batch write: SpendLogs and the key's spend are exactly the answered calls.
  await waitSpend('LiteLLM_VerificationToken', 'token', k.token, 100 * CALL_COST);
  const logs = await one(pool, `SELECT count(*)::int AS n, sum(spend) AS s, count(DISTINCT request_id)::int AS d FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token]);
  assert.equal(logs.n, 100);
  assert.equal(logs.d, 100);
  assert.ok(close(Number(logs.s), 100 * CALL_COST), `sum of SpendLogs.spend = ${logs.s}`);
  assert.ok((await spendOf('LiteLLM_VerificationToken', 'token', k.token)) <= 100 * CALL_COST + 1e-9);
});

test('team max_budget: 40 concurrent calls from two keys of the team, room for 5', async () => {
  const team = await adminOk(weir.url, '/team/new', { max_budget: 5 * CALL_COST });
  const k1 = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  const k2 = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  const { ok, refused } = await race(40, () => chat(weir.url, Math.random() < 0.5 ? k1.key : k2.key));
  assert.equal(ok.length, 5);
  assert.match(refused[0]!.json.error.message, new RegExp(`^Budget has been exceeded! Team=${team.team_id} Current cost: [\\d.e-]+, Max budget: 0\\.02\\. This call reserves `));
  await waitSpend('LiteLLM_TeamTable', 'team_id', team.team_id, 5 * CALL_COST);
});

test('user max_budget: keys of the user share it', async () => {
  const u = await adminOk(weir.url, '/user/new', { user_id: 'budget-user-1', max_budget: 5 * CALL_COST });
  const k1 = await adminOk(weir.url, '/key/generate', { user_id: u.user_id });
  const k2 = await adminOk(weir.url, '/key/generate', { user_id: u.user_id });
  const { ok, refused } = await race(40, () => chat(weir.url, Math.random() < 0.5 ? k1.key : k2.key));
  assert.equal(ok.length, 5);
  assert.match(refused[0]!.json.error.message, /^ExceededBudget: User=budget-user-1 over budget\./);
  await waitSpend('LiteLLM_UserTable', 'user_id', 'budget-user-1', 5 * CALL_COST);
});

test('end-user budget (/customer/new max_budget), end user from the body `user`', async () => {
  await adminOk(weir.url, '/customer/new', { user_id: 'cust-body', max_budget: 5 * CALL_COST });
  const k = await adminOk(weir.url, '/key/generate', {});
  const { ok, refused } = await race(40, () => chat(weir.url, k.key, 'gpt', { user: 'cust-body' }));
  assert.equal(ok.length, 5);
  assert.match(refused[0]!.json.error.message, /^ExceededBudget: End User=cust-body over budget\./);
  // Another end user on the same key is not affected.
  assert.equal((await chat(weir.url, k.key, 'gpt', { user: 'someone-else' })).status, 200);
  await waitSpend('LiteLLM_EndUserTable', 'user_id', 'cust-body', 5 * CALL_COST);
});

test('end-user budget, end user from x-litellm-end-user-id and x-litellm-customer-id', async () => {
  await adminOk(weir.url, '/customer/new', { user_id: 'cust-header', max_budget: 6 * CALL_COST });
  const k = await adminOk(weir.url, '/key/generate', {});
  const { ok } = await race(40, (() => {
    let i = 0;
    return () => chat(weir.url, k.key, 'gpt', {}, i++ % 2 ? { 'x-litellm-end-user-id': 'cust-header' } : { 'x-litellm-customer-id': 'cust-header' });
  })());
  assert.equal(ok.length, 6);
  // The header wins over the body's `user`.
  const r = await chat(weir.url, k.key, 'gpt', { user: 'not-limited' }, { 'x-litellm-end-user-id': 'cust-header' });
  assert.equal(r.status, 429);
  assert.equal(r.json.error.type, 'budget_exceeded');
  await waitSpend('LiteLLM_EndUserTable', 'user_id', 'cust-header', 6 * CALL_COST);
});

test('team member budget (/team/member_add max_budget_in_team)', async () => {
  const team = await adminOk(weir.url, '/team/new', {});
  await adminOk(weir.url, '/user/new', { user_id: 'member-1' });
  await adminOk(weir.url, '/user/new', { user_id: 'member-2' });
  await adminOk(weir.url, '/team/member_add', { team_id: team.team_id, member: [{ user_id: 'member-1', role: 'user' }], max_budget_in_team: 5 * CALL_COST });
  await adminOk(weir.url, '/team/member_add', { team_id: team.team_id, member: [{ user_id: 'member-2', role: 'user' }] });
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id, user_id: 'member-1' });
  const { ok, refused } = await race(40, () => chat(weir.url, k.key));
  assert.equal(ok.length, 5);
  assert.match(refused[0]!.json.error.message, new RegExp(`Team Member=member-1 in Team=${team.team_id}`));
  // The other member of the team has no member budget.
  const k2 = await adminOk(weir.url, '/key/generate', { team_id: team.team_id, user_id: 'member-2' });
  assert.equal((await chat(weir.url, k2.key)).status, 200);
  await waitFor('TeamMembership.spend', async () => {
    const m = await one(pool, `SELECT spend FROM "LiteLLM_TeamMembership" WHERE team_id = $1 AND user_id = 'member-1'`, [team.team_id]);
    return close(Number(m.spend), 5 * CALL_COST);
  }, 10_000, 100);
});

test('the key budget, the team budget and the user budget apply together: the smallest wins', async () => {
  const team = await adminOk(weir.url, '/team/new', { max_budget: 7 * CALL_COST });
  await adminOk(weir.url, '/user/new', { user_id: 'nested-user', max_budget: 50 * CALL_COST });
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id, user_id: 'nested-user', max_budget: 50 * CALL_COST });
  const { ok } = await race(60, () => chat(weir.url, k.key));
  assert.equal(ok.length, 7);
  // Every budget it was charged to moved by the same amount.
  await waitSpend('LiteLLM_TeamTable', 'team_id', team.team_id, 7 * CALL_COST);
  await waitSpend('LiteLLM_UserTable', 'user_id', 'nested-user', 7 * CALL_COST);
  await waitSpend('LiteLLM_VerificationToken', 'token', k.token, 7 * CALL_COST);
});

test('organization budget', async () => {
  const org = await adminOk(weir.url, '/organization/new', { organization_alias: 'org-b', max_budget: 4 * CALL_COST });
  const team = await adminOk(weir.url, '/team/new', { organization_id: org.organization_id });
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  const { ok, refused } = await race(30, () => chat(weir.url, k.key));
  assert.equal(ok.length, 4);
  assert.match(refused[0]!.json.error.message, new RegExp(`Organization=${org.organization_id}`));
});

test('global litellm_settings.max_budget: 60 concurrent calls from several keys, room for 8', async () => {
  const db = await ledgerDatabase('gov_global');
  const w = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db, { litellm: `  max_budget: ${8 * CALL_COST}` })));
  try {
    const keys = await Promise.all([0, 1, 2].map(() => adminOk(w.url, '/key/generate', {})));
    let i = 0;
    const { ok, refused } = await race(60, () => chat(w.url, keys[i++ % 3]!.key));
    assert.equal(ok.length, 8);
    assert.match(refused[0]!.json.error.message, /^ExceededBudget: LiteLLM Proxy has exceeded its budget\./);
    // The master key is held to it as well.
    const m = await chat(w.url, MASTER_KEY);
    assert.equal(m.status, 429);
    assert.equal(m.json.error.type, 'budget_exceeded');
  } finally {
    await w.stop();
  }
});

test('global max_budget: 0 is no global budget (LiteLLM checks it only when it is above 0): calls pass, no litellm-proxy-budget row', async () => {
  const db = await ledgerDatabase('gov_global_zero');
  const w = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db, { litellm: '  max_budget: 0' })));
  const p = dbPool(db);
  try {
    const k = await adminOk(w.url, '/key/generate', {});
    const r = await chat(w.url, k.key);
    assert.equal(r.status, 200, r.text);
    assert.equal((await chat(w.url, MASTER_KEY)).status, 200);
    assert.equal(await one(p, `SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'litellm-proxy-budget'`), undefined);
  } finally {
    await closeAll(() => w.stop(), () => p.end());
  }
});

test('global max_budget: the proxy\'s spend is written to PostgreSQL and still counts after a restart', {
}, async () => {
  const db = await ledgerDatabase('gov_global_restart');
  const cfg = writeConfigFile(governanceConfig(mock.url, db, { litellm: `  max_budget: ${3 * CALL_COST}` }));
  const p = dbPool(db);
  let w = await startWeirOn(cfg);
  try {
    const k = await adminOk(w.url, '/key/generate', {});
    const { ok } = await race(10, () => chat(w.url, k.key));
    assert.equal(ok.length, 3);
    await waitSpend('LiteLLM_VerificationToken', 'token', k.token, 3 * CALL_COST, p);
    await w.stop();
    w = await startWeirOn(cfg);
    const after = await chat(w.url, k.key);
    assert.equal(after.status, 429, `after a restart the spent global budget is forgotten: ${after.status} ${after.text.slice(0, 200)}`);
    const row = await one(p, `SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'litellm-proxy-budget'`);
    assert.ok(row && close(Number(row.spend), 3 * CALL_COST), `litellm-proxy-budget row: ${JSON.stringify(row)}`);
  } finally {
    await closeAll(() => w.stop(), () => p.end());
  }
});

test('calls without max_tokens on a deployment whose max output is unknown cannot overshoot the budget either', {
}, async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 10 * CALL_COST });
  // The same calls as elsewhere (4 completion tokens each), only without max_tokens.
  const { ok } = await race(100, () => call(weir.url, '/v1/chat/completions', { headers: bearer(k.key), body: { model: 'gpt', messages: [{ role: 'user', content: 'hello' }] } }));
  await waitSpend('LiteLLM_VerificationToken', 'token', k.token, ok.length * CALL_COST);
  assert.ok(ok.length <= 10, `${ok.length} calls passed a budget with room for 10; key spend is now ${await spendOf('LiteLLM_VerificationToken', 'token', k.token)} of max_budget ${10 * CALL_COST}`);
});
