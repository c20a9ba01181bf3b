// The model management handlers under each setting, on a real database without a gateway: off
// without store_model_in_db, refused without a salt key, the legacy NaCl format when
// general_settings.encryption_algorithm asks for it, change notifications and audit rows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptAtRest } from '../../src/db/at-rest-crypto';
import type { ModelSettings } from '../../src/admin/types';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';

const SALT = 'salt-admin-models-settings';
const models: ModelSettings = { storeInDb: true, saltKey: SALT, algorithm: 'xsalsa20-poly1305', configIds: new Set(['cfg-1']), env: {}, slotsLeft: 100 };
const body = { model_name: 'm', litellm_params: { model: 'openai/x', api_key: 'sk-settings-secret' }, model_info: { id: 'm-1' } };

let h: Harness;
before(async () => {
  h = await harness('admin_models_settings', { models, storeAuditLogs: true });
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

test('without store_model_in_db every model change is a 400 that says how to turn it on', async () => {
  h.ctx.settings.models = { ...models, storeInDb: false };
  try {
    for (const [path, b] of [['/model/new', body], ['/model/update', { model_info: { id: 'm-1' } }], ['/model/delete', { id: 'm-1' }]] as const) {
      const e = await h.fail(400, 'POST', path, b);
      assert.match(e.message, /store_model_in_db/);
    }
    h.ctx.settings.models = undefined;
    assert.match((await h.fail(400, 'POST', '/model/new', body)).message, /store_model_in_db/);
    h.ctx.settings.models = { ...models, saltKey: null };
    assert.match((await h.fail(400, 'POST', '/model/new', body)).message, /LITELLM_SALT_KEY/);
    h.ctx.settings.models = { ...models, slotsLeft: 0 };
    assert.match((await h.fail(503, 'POST', '/model/new', body)).message, /health table holds .*delete some, or try again shortly/);
  } finally {
    h.ctx.settings.models = models;
  }
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_ProxyModelTable"`))[0].n, 0);
});

test('encryption_algorithm xsalsa20-poly1305 writes the legacy format; changes notify and are audited', async () => {
  h.changes.length = 0;
  await h.ok('POST', '/model/new', body);
  const row = (await h.rows(`SELECT * FROM "LiteLLM_ProxyModelTable" WHERE model_id = 'm-1'`))[0];
  assert.doesNotMatch(row.litellm_params.api_key, /^v\d:gcm:/);
  assert.equal(decryptAtRest(row.litellm_params.api_key, SALT), 'sk-settings-secret');
  assert.equal(row.created_at.toISOString(), '2025-03-12T15:30:00.000Z');
  await h.ok('POST', '/model/update', { model_info: { id: 'm-1', access_groups: ['g'] }, litellm_params: { rpm: 7 } });
  const updated = (await h.rows(`SELECT * FROM "LiteLLM_ProxyModelTable" WHERE model_id = 'm-1'`))[0];
  assert.equal(updated.litellm_params.rpm, 7);
  assert.equal(updated.litellm_params.api_key, row.litellm_params.api_key, 'a value not given is kept as stored');
  assert.deepEqual(updated.model_info, { id: 'm-1', access_groups: ['g'] });
  await h.ok('POST', '/model/delete', { id: 'm-1' });
  assert.deepEqual(h.changed('model'), ['m-1', 'm-1', 'm-1'], 'one notification per change');
  const audit = await h.rows(`SELECT action, table_name, object_id FROM "LiteLLM_AuditLog" WHERE table_name = 'LiteLLM_ProxyModelTable' ORDER BY updated_at, action`);
  assert.deepEqual(audit.map((a) => a.action).sort(), ['created', 'deleted', 'updated']);
  const text = JSON.stringify(await h.rows(`SELECT * FROM "LiteLLM_AuditLog"`));
  assert.ok(!text.includes('sk-settings-secret'), 'audit rows hold the encrypted values only');
});

test('a missing model: 400 on POST /model/update (LiteLLM), 404 on PATCH; a config id is read-only', async () => {
  assert.match((await h.fail(400, 'POST', '/model/update', { model_info: { id: 'nope' } })).message, /not found/);
  assert.match((await h.fail(404, 'PATCH', '/model/nope/update', {})).message, /Model nope not found on proxy/);
  assert.match((await h.fail(400, 'PATCH', '/model/cfg-1/update', {})).message, /config file/);
  assert.match((await h.fail(405, 'GET', '/model/new')).message, /Method GET not allowed/);
});

test('custom_llm_provider names the provider of a model written without its prefix, as LiteLLM\'s UI sends it', async () => {
  const r = await h.ok('POST', '/model/new', { model_name: 'ui-model', litellm_params: { model: 'my-served-model', custom_llm_provider: 'hosted_vllm', api_base: 'http://vllm.local/v1' } });
  assert.equal(r.litellm_params.model, 'my-served-model');
  assert.match((await h.fail(400, 'POST', '/model/new', { model_name: 'x', litellm_params: { model: 'my-served-model', custom_llm_provider: 'nosuch' } })).message, /cannot tell the provider/);
});
