// Key restrictions enforced end to end, on the real gateway (2 workers) and PostgreSQL: routes
// (allowed_routes, key_type), per-model budgets and rate limits (model_max_budget,
// model_rpm_limit, model_tpm_limit) with the key's model_spend written back, and the model lists
// a key sees. Keys are made through /key/generate and, as LiteLLM itself writes them, by SQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import type { MockUpstream } from '../support/mock-upstream';
import {
  CALL_COST, MASTER_KEY, type Answer, type Weir, adminOk, bearer, burst, call, chat, closeAll, dbPool, governanceConfig, messages, one,
  startMock, startWeirOn, tally, waitFor, writeConfigFile,
} from './governance-helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await freshDatabase('gov_keyrules');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
  pool = dbPool(db);
});

after(async () => {
  await closeAll(() => weir?.stop(), () => pool?.end(), () => mock?.close(), stopTestPostgres);
});

/** A key row written the way LiteLLM writes one; answers once a call with it gets past auth. */
async function insertKey(raw: string, cols: Record<string, unknown>): Promise<void> {
  const names = ['token', 'key_alias', ...Object.keys(cols)];
  const values = [sha(raw), `sql-${raw.slice(-6)}`, ...Object.values(cols).map((v) => (v && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v))];
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`, values);
}

function refusedRoute(r: Answer, route: string): void {
  assert.equal(r.status, 403, r.text);
  const message = r.json.type === 'error' ? r.json.error.message : r.json.error.message;
  assert.match(message, new RegExp(`^Virtual key is not allowed to call this route\\. Only allowed to call routes: \\[.*\\]\\. Tried to call route: ${route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
}

test('key_type read_only: model lists and key info answer; LLM calls get LiteLLM 403 in each dialect, nothing reaches the upstream', async () => {
  const k = await adminOk(weir.url, '/key/generate', { key_type: 'read_only' });
  assert.deepEqual(k.allowed_routes, ['info_routes']);
  const before = mock.requests.length;
  const o = await chat(weir.url, k.key);
  refusedRoute(o, '/v1/chat/completions');
  assert.equal(o.json.error.type, 'auth_error');
  assert.equal(o.json.error.code, '403');
  assert.match(o.json.error.message, /Only allowed to call routes: \['info_routes'\]/);
  const a = await messages(weir.url, k.key);
  refusedRoute(a, '/v1/messages');
  assert.equal(a.json.type, 'error');
  assert.equal(a.json.error.type, 'permission_error');
  const pt = await call(weir.url, '/anthropic/v1/messages', { headers: { 'x-api-key': k.key }, body: { model: 'x', max_tokens: 1, messages: [] } });
  refusedRoute(pt, '/anthropic/v1/messages');
  assert.equal(mock.requests.length, before, 'no refused call reached the upstream');
  for (const p of ['/v1/models', '/models', '/model/info']) assert.equal((await call(weir.url, p, { headers: bearer(k.key) })).status, 200, p);
  assert.equal((await call(weir.url, `/key/info?key=${k.key}`, { headers: bearer(k.key) })).status, 200);
  refusedRoute(await call(weir.url, '/key/generate', { headers: bearer(k.key), body: {} }), '/key/generate');
});

test('key_type llm_api and management; explicit allowed_routes as paths and wildcards', async () => {
  const llm = await adminOk(weir.url, '/key/generate', { key_type: 'llm_api' });
  assert.equal((await chat(weir.url, llm.key)).status, 200);
  assert.equal((await messages(weir.url, llm.key)).status, 200);
  assert.equal((await call(weir.url, '/v1/models', { headers: bearer(llm.key) })).status, 200);
  refusedRoute(await call(weir.url, `/key/info?key=${llm.key}`, { headers: bearer(llm.key) }), '/key/info');

  const mgmt = await adminOk(weir.url, '/key/generate', { key_type: 'management' });
  refusedRoute(await chat(weir.url, mgmt.key), '/v1/chat/completions');
  assert.equal((await call(weir.url, `/key/info?key=${mgmt.key}`, { headers: bearer(mgmt.key) })).status, 200);

  const paths = await adminOk(weir.url, '/key/generate', { allowed_routes: ['/v1/chat/completions'] });
  assert.equal((await chat(weir.url, paths.key)).status, 200);
  refusedRoute(await messages(weir.url, paths.key), '/v1/messages');
  refusedRoute(await call(weir.url, '/v1/models', { headers: bearer(paths.key) }), '/v1/models');

  const wild = await adminOk(weir.url, '/key/generate', { allowed_routes: ['/v1/*'] });
  assert.equal((await messages(weir.url, wild.key)).status, 200);
  refusedRoute(await call(weir.url, '/chat/completions', { headers: bearer(wild.key), body: { model: 'gpt', messages: [{ role: 'user', content: 'hi' }] } }), '/chat/completions');

  // /key/update takes effect on the next call.
  await adminOk(weir.url, '/key/update', { key: paths.key, allowed_routes: [] });
  await waitFor('the key calls /v1/messages', async () => (await messages(weir.url, paths.key)).status === 200);
  // The master key is never restricted.
  assert.equal((await messages(weir.url, MASTER_KEY)).status, 200);
});

test('a key LiteLLM wrote by SQL: allowed_routes, model_rpm_limit in metadata and model_max_budget are enforced', async () => {
  const raw = 'sk-litellm-written-9f8e7d';
  await insertKey(raw, {
    allowed_routes: ['llm_api_routes'],
    models: ['gpt', 'other-model'],
    metadata: { model_rpm_limit: { 'other-model': 2 } },
    model_max_budget: { gpt: { budget_limit: CALL_COST * 2, time_period: '30d' } },
  });
  refusedRoute(await call(weir.url, `/key/info?key=${raw}`, { headers: bearer(raw) }), '/key/info');
  // gpt: two calls fit the model budget; the third is over it.
  assert.equal((await chat(weir.url, raw, 'gpt')).status, 200);
  assert.equal((await chat(weir.url, raw, 'gpt')).status, 200);
  const over = await chat(weir.url, raw, 'gpt');
  assert.equal(over.status, 429, over.text);
  assert.equal(over.json.error.type, 'budget_exceeded');
  // LiteLLM's message, then what the call reserved.
  assert.ok(over.json.error.message.startsWith(`LiteLLM Virtual Key: ${sha(raw)}, key_alias: sql-${raw.slice(-6)}, exceeded budget for model=gpt. This call reserves `), over.json.error.message);
  // other-model: its own rpm, two per minute, whatever gpt did.
  const rs = await burst(5, () => chat(weir.url, raw, 'other-model'));
  assert.deepEqual(tally(rs), { 200: 2, 429: 3 });
  const limited = rs.find((r) => r.status === 429)!;
  assert.equal(limited.json.error.type, 'rate_limit_error');
  assert.match(limited.json.error.message, new RegExp(`^Rate limit exceeded for model_per_key: ${sha(raw)}:other-model\\. Limit type: requests\\. Current limit: 2, Remaining: 0\\. `));
  assert.ok(limited.headers['retry-after']);
});

test('model_max_budget under concurrency: reserve-then-settle lets exactly the calls that fit through', async () => {
  const k = await adminOk(weir.url, '/key/generate', { model_max_budget: { gpt: { max_budget: CALL_COST * 3, budget_duration: '1d' } } });
  const rs = await burst(20, () => chat(weir.url, k.key, 'gpt'));
  assert.deepEqual(tally(rs), { 200: 3, 429: 17 });
  for (const r of rs.filter((x) => x.status === 429)) assert.equal(r.json.error.type, 'budget_exceeded');
  // Another model of the same key is not governed by gpt's budget.
  assert.equal((await chat(weir.url, k.key, 'other-model')).status, 200);
  // The Anthropic endpoint is charged to the same (key, model) budget when it names that model.
  const a = await messages(weir.url, k.key, 'gpt');
  assert.equal(a.status, 429);
  assert.equal(a.json.error.type, 'rate_limit_error', 'Anthropic\'s type for a 429');
});

test('model_tpm_limit: once the minute\'s tokens reach it, the next call to that model is refused', async () => {
  const k = await adminOk(weir.url, '/key/generate', { model_tpm_limit: { gpt: 1 } });
  assert.equal((await chat(weir.url, k.key, 'gpt')).status, 200);
  const r = await chat(weir.url, k.key, 'gpt');
  assert.equal(r.status, 429, r.text);
  assert.match(r.json.error.message, /^Rate limit exceeded for model_per_key: [0-9a-f]{64}:gpt\. Limit type: tokens\. Current limit: 1, Remaining: 0\. /);
  assert.equal((await chat(weir.url, k.key, 'other-model')).status, 200);
});

test('the key\'s model_spend column gets each model\'s spend', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  for (let i = 0; i < 3; i++) assert.equal((await chat(weir.url, k.key, 'gpt')).status, 200);
  assert.equal((await chat(weir.url, k.key, 'other-model')).status, 200);
  const row = await waitFor('model_spend written', async () => {
    const r = await one(pool, `SELECT model_spend, spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token]);
    return r.model_spend?.['other-model'] !== undefined && r.model_spend?.gpt !== undefined ? r : null;
  }, 15_000, 100);
  assert.ok(Math.abs(row.model_spend.gpt - 3 * CALL_COST) < 1e-12, JSON.stringify(row.model_spend));
  assert.ok(Math.abs(row.model_spend['other-model'] - CALL_COST) < 1e-12);
  assert.ok(Math.abs(row.spend - 4 * CALL_COST) < 1e-12);
});

test('/v1/models, /models and /model/info list what the key may call; the master key sees everything', async () => {
  const ids = (r: Answer) => (r.json.data as { id: string }[]).map((m) => m.id).sort();
  const infoNames = (r: Answer) => [...new Set((r.json.data as { model_name: string }[]).map((m) => m.model_name))].sort();
  const all = ['claude', 'gpt', 'gpt-4o-mini', 'other-model', 'secret-model'];
  assert.deepEqual(ids(await call(weir.url, '/v1/models', { headers: bearer(MASTER_KEY) })), all);
  const unrestricted = await adminOk(weir.url, '/key/generate', {});
  assert.deepEqual(ids(await call(weir.url, '/v1/models', { headers: bearer(unrestricted.key) })), all);
  // Its own list, an access group and a wildcard.
  const k = await adminOk(weir.url, '/key/generate', { models: ['gpt', 'vip', 'gpt-4o*'] });
  for (const p of ['/v1/models', '/models']) assert.deepEqual(ids(await call(weir.url, p, { headers: bearer(k.key) })), ['gpt', 'gpt-4o-mini', 'secret-model'], p);
  const info = await call(weir.url, '/model/info', { headers: bearer(k.key) });
  assert.deepEqual(infoNames(info), ['gpt', 'gpt-4o-mini', 'secret-model']);
  // A team's list narrows what its keys see.
  const team = await adminOk(weir.url, '/team/new', { models: ['gpt', 'claude'] });
  const tk = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  assert.deepEqual(ids(await call(weir.url, '/v1/models', { headers: bearer(tk.key) })), ['claude', 'gpt']);
  const both = await adminOk(weir.url, '/key/generate', { team_id: team.team_id, models: ['gpt', 'other-model'] });
  assert.deepEqual(ids(await call(weir.url, '/v1/models', { headers: bearer(both.key) })), ['gpt']);
  // And a change of the key's list shows at once.
  await adminOk(weir.url, '/key/update', { key: k.key, models: ['claude'] });
  assert.deepEqual(ids(await call(weir.url, '/v1/models', { headers: bearer(k.key) })), ['claude']);
});
