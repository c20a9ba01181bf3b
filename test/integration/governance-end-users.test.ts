// End users at scale and records reused, through the real gateway on a real PostgreSQL. The shared
// state holds at most WEIR_END_USER_RECORDS end users (1,000 here), only those with something to
// enforce; the table can hold any number. Before, 150,000 rows exhausted the entity table and the
// sync threw before it applied keys: key changes stopped propagating.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import {
  type Weir, CALL_COST, admin, adminOk, call, chat, closeAll, dbPool, governanceConfig, startMock, startWeirOn, waitFor, writeConfigFile,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const dbUrl = await freshDatabase('gov_end_users');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, dbUrl)), { env: { WEIR_END_USER_RECORDS: '1000' } });
  pool = dbPool(dbUrl);
});

after(async () => {
  await closeAll(() => weir?.stop(), () => pool?.end(), () => mock?.close(), stopTestPostgres);
});

test('150,000 end users in the table (15,000 with a budget of their own): a key block still propagates, and an end user past the bound is held to its budget once active', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const other = await adminOk(weir.url, '/key/generate', {});
  await pool.query(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by) VALUES ('b-scale', $1, 'test', 'test')`, [CALL_COST]);
  await pool.query(
    `INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, blocked, budget_id)
     SELECT 'eu-' || g, 0, false, CASE WHEN g % 10 = 0 THEN 'b-scale' END FROM generate_series(1, 150000) g`,
  );
  // A customer made after the table filled the bound: not in the shared state until it spends.
  await adminOk(weir.url, '/customer/new', { user_id: 'late-customer', max_budget: CALL_COST });

  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET blocked = true WHERE token = $1`, [other.token]);
  await waitFor('the block to propagate', async () => (await chat(weir.url, other.key)).status === 401, 20_000);

  // Its first call is not checked against its budget (it holds no record yet); once its spend is
  // committed it takes the place of a quiet end user, and the budget (one call) holds.
  await waitFor('late-customer held to its budget', async () => (await chat(weir.url, k.key, 'gpt', { user: 'late-customer' })).json?.error?.type === 'budget_exceeded', 20_000);
  const r = await chat(weir.url, k.key, 'gpt', { user: 'late-customer' });
  assert.match(r.json.error.message, /^ExceededBudget: End User=late-customer over budget\./);
  // End users without a budget are not limited.
  assert.equal((await chat(weir.url, k.key, 'gpt', { user: 'eu-7' })).status, 200);
  const ready = await call(weir.url, '/health/readiness');
  assert.equal(ready.status, 200, ready.text);
  assert.doesNotMatch(weir.output(), /governance sync:|no free entity record/);
});

test('records of deleted keys are reused without carrying anything over: the deleted key stays refused, the new one starts with clean counters', async () => {
  for (let round = 0; round < 5; round++) {
    // rpm_limit 2 used up, and a budget of one call spent.
    const old = await adminOk(weir.url, '/key/generate', { rpm_limit: 2, max_budget: CALL_COST });
    assert.equal((await chat(weir.url, old.key)).status, 200);
    assert.equal((await chat(weir.url, old.key)).status, 429);
    assert.equal((await admin(weir.url, '/key/delete', { keys: [old.key] })).status, 200);
    // Another admin change makes a sync (reclaiming what every worker has acknowledged), then a new key.
    await adminOk(weir.url, '/team/new', {});
    const fresh = await adminOk(weir.url, '/key/generate', { rpm_limit: 2 });
    assert.equal((await chat(weir.url, old.key)).status, 401, `round ${round}: the deleted key`);
    const calls = [await chat(weir.url, fresh.key), await chat(weir.url, fresh.key), await chat(weir.url, fresh.key)];
    assert.deepEqual(calls.map((c) => c.status), [200, 200, 429], `round ${round}: the new key has its own two requests`);
    assert.equal(calls[2]!.json.error.type, 'rate_limit_error');
  }
});

test('max_end_user_budget_id and max_end_user_budget: an end user without a budget of its own is held to the default from its first committed spend on', async () => {
  const db = await freshDatabase('gov_end_user_default');
  const cfg = governanceConfig(mock.url, db, { litellm: `  max_end_user_budget: 1\n  max_end_user_budget_id: eu-tier` });
  const w = await startWeirOn(writeConfigFile(cfg));
  const p = dbPool(db);
  try {
    // The budget row named by max_end_user_budget_id: one call.
    await adminOk(w.url, '/budget/new', { budget_id: 'eu-tier', max_budget: CALL_COST });
    const k = await adminOk(w.url, '/key/generate', {});
    await waitFor('new-eu held to the eu-tier budget', async () => (await chat(w.url, k.key, 'gpt', { user: 'new-eu' })).json?.error?.type === 'budget_exceeded', 20_000);
    const r = await chat(w.url, k.key, 'gpt', { user: 'new-eu' });
    assert.match(r.json.error.message, /^ExceededBudget: End User=new-eu over budget\./);
    // No row of its own was made with a budget: the default stays a setting, as in LiteLLM.
    const row = (await p.query(`SELECT budget_id FROM "LiteLLM_EndUserTable" WHERE user_id = 'new-eu'`)).rows[0];
    assert.equal(row.budget_id, null);
    // The budget row gone: max_end_user_budget (1 USD) applies instead, and new-eu may call again.
    await adminOk(w.url, '/budget/delete', { id: 'eu-tier' });
    await waitFor('new-eu under max_end_user_budget', async () => (await chat(w.url, k.key, 'gpt', { user: 'new-eu' })).status === 200, 20_000);
  } finally {
    await closeAll(() => w.stop(), () => p.end());
  }
});
