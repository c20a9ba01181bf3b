// Rows another writer (LiteLLM, a hand-written SQL statement) put in the shared database with
// values the shared counters cannot hold: the sync clamps them, says so once, and keeps applying
// every other row. Before, one such row made every sync throw: blocks, deletes and budget cuts
// stopped propagating and readiness answered 503, across restarts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { type Weir, adminOk, call, chat, closeAll, dbPool, governanceConfig, startMock, startWeirOn, waitFor, writeConfigFile } from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const dbUrl = await freshDatabase('gov_bad_rows');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, dbUrl)));
  pool = dbPool(dbUrl);
});

after(async () => {
  await closeAll(() => weir?.stop(), () => pool?.end(), () => mock?.close(), stopTestPostgres);
});

const lines = (re: RegExp) => weir.output().split('\n').filter((l) => re.test(l));

test('out-of-range rows written by SQL are clamped and logged once; a block and a budget cut made afterwards on other keys propagate', async () => {
  const bad = await adminOk(weir.url, '/key/generate', { key_alias: 'huge-budget' });
  const blocked = await adminOk(weir.url, '/key/generate', {});
  const cut = await adminOk(weir.url, '/key/generate', {});
  const team = await adminOk(weir.url, '/team/new', { team_alias: 'huge-team' });
  const customer = await adminOk(weir.url, '/customer/new', { user_id: 'huge-customer', max_budget: 1 });
  for (const k of [bad, blocked, cut]) assert.equal((await chat(weir.url, k.key)).status, 200);

  // What no admin route accepts, straight into the tables.
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET max_budget = 1e308, rpm_limit = 1e12 WHERE token = $1`, [bad.token]);
  await pool.query(`UPDATE "LiteLLM_TeamTable" SET max_budget = 1e308, tpm_limit = 9e15, spend = 1e300 WHERE team_id = $1`, [team.team_id]);
  await pool.query(`UPDATE "LiteLLM_BudgetTable" SET max_budget = 1e10 WHERE budget_id = $1`, [customer.budget_id]);
  // Then changes to other keys.
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET blocked = true WHERE token = $1`, [blocked.token]);
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET max_budget = 0.001, spend = 1 WHERE token = $1`, [cut.token]);

  await waitFor('the block to propagate', async () => (await chat(weir.url, blocked.key)).status === 401, 15_000);
  await waitFor('the budget cut to propagate', async () => (await chat(weir.url, cut.key)).json?.error?.type === 'budget_exceeded', 15_000);
  const ready = await call(weir.url, '/health/readiness');
  assert.equal(ready.status, 200, ready.text);
  assert.equal(ready.json.db, 'connected');
  // The clamped key still serves: 1e9 USD is a budget that never stops it, as 1e308 meant.
  assert.equal((await chat(weir.url, bad.key)).status, 200);
  assert.equal((await chat(weir.url, bad.key, 'gpt', { user: 'huge-customer' })).status, 200);

  // More syncs go by (another change, waited for): each bad row is still logged exactly once.
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET blocked = false WHERE token = $1`, [blocked.token]);
  await waitFor('the unblock to propagate', async () => (await chat(weir.url, blocked.key)).status === 200, 15_000);
  const keyLines = lines(new RegExp(`key ${bad.token.slice(0, 12)}`));
  assert.equal(keyLines.length, 1, keyLines.join('\n'));
  assert.match(keyLines[0]!, /max_budget, rpm_limit\b/);
  assert.doesNotMatch(keyLines[0]!, new RegExp(bad.key));
  assert.equal(lines(new RegExp(`team ${team.team_id}.*max_budget, tpm_limit, spend`)).length, 1, weir.output());
  assert.equal(lines(/end_user huge-customer.*max_budget/).length, 1, weir.output());
  assert.equal(lines(/governance sync:/).length, 0, weir.output());
});

test('a restart with those rows still in the database: ready at once, and key changes keep propagating', async () => {
  const configPath = weir.configPath;
  await weir.stop();
  weir = await startWeirOn(configPath);
  const ready = await call(weir.url, '/health/readiness');
  assert.equal(ready.status, 200, ready.text);
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET blocked = true WHERE token = $1`, [k.token]);
  await waitFor('the block to propagate after the restart', async () => (await chat(weir.url, k.key)).status === 401, 15_000);
  assert.equal(lines(/governance: key .* has max_budget, rpm_limit/).length, 1, weir.output());
});
