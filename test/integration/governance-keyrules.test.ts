// Key restrictions enforced end to end, on the real gateway (2 workers) and PostgreSQL: routes
// (allowed_routes, key_type). Keys are made through /key/generate and, as LiteLLM itself writes
// them, by SQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import type { MockUpstream } from '../support/mock-upstream';
import {
  MASTER_KEY, type Answer, type Weir, adminOk, bearer, call, chat, closeAll, dbPool, governanceConfig, messages,
  startMock, startWeirOn, waitFor, writeConfigFile,
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

test('a key LiteLLM wrote by SQL: its allowed_routes column is enforced', async () => {
  const raw = 'sk-litellm-routes-1a2b3c';
  await insertKey(raw, { allowed_routes: ['llm_api_routes'] });
  assert.equal((await chat(weir.url, raw, 'gpt')).status, 200);
  refusedRoute(await call(weir.url, `/key/info?key=${raw}`, { headers: bearer(raw) }), '/key/info');
});
