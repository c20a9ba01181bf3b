// Rows of LiteLLM_ProxyModelTable as deployments (src/control/db-models.ts): decrypted as LiteLLM
// reads them, plaintext values taken as they are, os.environ/ resolved as in the config file, rows
// that cannot load left out with a reason that names the row and never a value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encryptAtRest } from '../../src/db/at-rest-crypto';
import { modelsFromRows, storeModelInDb, withDbModels } from '../../src/control/db-models';
import { parseConfigText } from '../../src/config/load';

const SALT = 'salt-for-db-models';
const enc = (s: string) => encryptAtRest(s, SALT);

test('encrypted, plaintext and JSON-string columns all load; model_info gets the row id and db_model', () => {
  const set = modelsFromRows(
    [
      { model_id: 'a', model_name: 'ga', litellm_params: { model: enc('openai/x'), api_key: enc('sk-1'), rpm: 5 }, model_info: { id: 'stale', mode: 'chat' } },
      { model_id: 'b', model_name: 'gb', litellm_params: JSON.stringify({ model: 'anthropic/claude-x', api_key: 'plain-key' }), model_info: JSON.stringify(JSON.stringify({ base_model: 'z' })) },
      { model_id: 'c', model_name: 'gc', litellm_params: { model: 'openai/y' }, model_info: null },
    ],
    SALT,
    {},
  );
  assert.deepEqual(set.problems, []);
  assert.deepEqual(
    set.deployments.map((d) => [d.model_name, d.litellm_params.model, d.litellm_params.api_key, d.model_info?.id, d.model_info?.db_model]),
    [
      ['ga', 'openai/x', 'sk-1', 'a', true],
      ['gb', 'anthropic/claude-x', 'plain-key', 'b', true],
      ['gc', 'openai/y', undefined, 'c', true],
    ],
  );
  assert.equal(set.deployments[0]!.litellm_params.rpm, 5);
  assert.equal(set.deployments[1]!.model_info?.base_model, 'z');
});

test('os.environ/ resolves; an unset variable makes the deployment unavailable, as in the config file', () => {
  const set = modelsFromRows(
    [
      { model_id: 'a', model_name: 'ga', litellm_params: { model: 'openai/x', api_key: enc('os.environ/DBM_KEY') }, model_info: {} },
      { model_id: 'b', model_name: 'gb', litellm_params: { model: 'openai/x', api_key: 'os.environ/DBM_UNSET' }, model_info: {} },
    ],
    SALT,
    { DBM_KEY: 'sk-from-env' },
  );
  assert.equal(set.deployments[0]!.litellm_params.api_key, 'sk-from-env');
  assert.equal(set.deployments[1]!.litellm_params.api_key, undefined);
  assert.deepEqual(set.envs[1]?.unset, [{ path: 'litellm_params.api_key', name: 'DBM_UNSET' }]);
});

test('rows that cannot load are left out, named, with no value in the reason', () => {
  const set = modelsFromRows(
    [
      { model_id: 'x1', model_name: 'm1', litellm_params: 'not json', model_info: {} },
      { model_id: 'x2', model_name: 'm2', litellm_params: { model: encryptAtRest('openai/x', 'other'), api_key: encryptAtRest('sk-hidden', 'other') }, model_info: {} },
      { model_id: 'x3', model_name: 'm3', litellm_params: { model: 'openai/x', rpm: 'many', api_key: 'sk-hidden' }, model_info: {} },
      { model_id: 'x4', model_name: 'm4', litellm_params: { api_key: 'sk-hidden' }, model_info: {} },
      { model_id: 'cfg-1', model_name: 'm5', litellm_params: { model: 'openai/x' }, model_info: {} },
      { model_id: 'ok', model_name: 'fine', litellm_params: { model: 'openai/x' }, model_info: {} },
    ],
    SALT,
    {},
    new Set(['cfg-1']),
  );
  assert.deepEqual(set.deployments.map((d) => d.model_name), ['fine']);
  assert.equal(set.problems.length, 5);
  assert.match(set.problems[4]!, /^database model cfg-1 \(m5\) left out: a model of the config file has this id/);
  assert.match(set.problems[0]!, /^database model x1 \(m1\) left out: litellm_params is not a JSON object/);
  assert.match(set.problems[1]!, /^database model x2 \(m2\) left out: litellm_params\.model could not be decrypted/);
  assert.match(set.problems[2]!, /^database model x3 \(m3\) left out: .*litellm_params\.rpm: expected a number/);
  assert.match(set.problems[3]!, /^database model x4 \(m4\) left out: .*litellm_params\.model/);
  for (const p of set.problems) assert.ok(!p.includes('sk-hidden'));
});

test('withDbModels appends after the config models and shifts their deployment_env', () => {
  const cfg = parseConfigText('model_list:\n  - model_name: c\n    litellm_params: {model: openai/c, api_key: os.environ/DBM_CFG_UNSET}\n', { baseDir: '/', env: {} });
  const set = modelsFromRows([{ model_id: 'b', model_name: 'gb', litellm_params: { model: 'openai/x', api_key: 'os.environ/DBM_UNSET' }, model_info: {} }], SALT, {});
  const merged = withDbModels(cfg, set);
  assert.deepEqual(merged.model_list.map((d) => d.model_name), ['c', 'gb']);
  assert.equal(merged.deployment_env?.[0]?.unset?.[0]?.name, 'DBM_CFG_UNSET');
  assert.equal(merged.deployment_env?.[1]?.unset?.[0]?.name, 'DBM_UNSET');
  assert.equal(withDbModels(cfg, null), cfg);
  assert.equal(cfg.model_list.length, 1, 'the config itself is not changed');
});

test('store_model_in_db: general_settings, else STORE_MODEL_IN_DB', () => {
  const cfg = (v: string) => parseConfigText(`general_settings:\n  store_model_in_db: ${v}\n`, { baseDir: '/', env: {} });
  assert.equal(storeModelInDb(cfg('true'), {}), true);
  assert.equal(storeModelInDb(cfg('"True"'), {}), true);
  assert.equal(storeModelInDb(cfg('false'), { STORE_MODEL_IN_DB: 'True' }), false);
  assert.equal(storeModelInDb(parseConfigText('', { baseDir: '/', env: {} }), { STORE_MODEL_IN_DB: 'True' }), true);
  assert.equal(storeModelInDb(parseConfigText('', { baseDir: '/', env: {} }), {}), false);
});
