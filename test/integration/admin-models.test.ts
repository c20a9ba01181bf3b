// /model/new, /model/update, /model/delete with store_model_in_db: the real gateway (2 workers) on a
// real database and two mock upstreams. A model made through the API serves calls at once on every
// worker, follows its updates, is gone once deleted, survives a restart; rows LiteLLM wrote (its
// three encryption formats) are read; the config's models stay read-only; credentials never show.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { decryptAtRest, encryptAtRest } from '../../src/db/at-rest-crypto';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { MASTER_KEY, admin, adminOk, bearer, call, dbPool, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';

/** The salt of the vectors in test/unit/at-rest-crypto.test.ts (made with LiteLLM's algorithm). */
const SALT = 'sk-weir-salt-vector-1';
const VECTOR_PLAIN = 'sk-upstream-secret-abc123';
const V3_MODEL = 'v3:gcm:AQIDBAUGBwgJCgsML_0fHduXwon7dvUe14e8kvud0_2NnukFrEtsqenH0Jvxpw==';
const V2_KEY = 'v2:gcm:AQIDBAUGBwgJCgsMozssHZMVUxZURLWKj5hW9gOQAat0U_ZCMArmMzyBk5w5uBj8iQaIpEA=';

const SECRET = 'sk-db-model-upstream-4f1c9e';
const SECRET_BAD = 'sk-bad-input-secret-77e0aa';

let mockA: MockUpstream;
let mockB: MockUpstream;
let dbUrl: string;
let pool: Pool;
let configYaml: string;
let configPath: string;
let weir: Weir;

const env = { LITELLM_SALT_KEY: SALT };

before(async () => {
  mockA = await startMockUpstream();
  mockB = await startMockUpstream();
  dbUrl = await freshDatabase('admin_models');
  pool = dbPool(dbUrl);
  configYaml = `model_list:
  - model_name: cfg-model
    litellm_params:
      model: openai/cfg-upstream
      api_base: ${mockA.url}/v1
      api_key: sk-config-key
    model_info:
      id: cfg-1
general_settings:
  master_key: ${MASTER_KEY}
  database_url: ${dbUrl}
  store_model_in_db: true
router_settings:
  num_retries: 0
`;
  configPath = writeConfigFile(configYaml);
  weir = await startWeirOn(configPath, { env });
});

after(async () => {
  await weir?.stop();
  await pool?.end();
  await mockA?.close();
  await mockB?.close();
  await stopTestPostgres();
});

const chat = (base: string, model: string) =>
  call(base, '/v1/chat/completions', { headers: bearer(MASTER_KEY), body: { model, messages: [{ role: 'user', content: 'hi' }] } });

const row = async (id: string) => (await pool.query(`SELECT * FROM "LiteLLM_ProxyModelTable" WHERE model_id = $1`, [id])).rows[0];

test('/model/new stores the model encrypted as LiteLLM does, and every worker serves it at once', async () => {
  const r = await adminOk(weir.url, '/model/new', {
    model_name: 'db-gpt',
    litellm_params: { model: 'openai/db-upstream', api_base: `${mockA.url}/v1`, api_key: SECRET, rpm: 100 },
    model_info: { id: 'db-1', mode: 'chat' },
  });
  assert.equal(r.model_id, 'db-1');
  assert.equal(r.model_name, 'db-gpt');
  assert.equal(r.model_info.db_model, true);
  assert.equal(r.litellm_params.model, 'openai/db-upstream');
  assert.ok(!JSON.stringify(r).includes(SECRET), 'the answer carries no credential');

  const stored = await row('db-1');
  assert.equal(stored.model_name, 'db-gpt');
  assert.equal(stored.created_by, 'default_user_id');
  for (const k of ['model', 'api_base', 'api_key']) assert.match(stored.litellm_params[k], /^v3:gcm:/, `${k} is encrypted`);
  assert.equal(stored.litellm_params.rpm, 100, 'numbers are stored as they are, as LiteLLM does');
  assert.equal(decryptAtRest(stored.litellm_params.api_key, SALT), SECRET);
  assert.equal(decryptAtRest(stored.litellm_params.model, SALT), 'openai/db-upstream');
  assert.equal(stored.model_info.id, 'db-1');

  // Fresh connections land on either worker: each serves the model already (no waiting).
  mockA.requests.length = 0;
  for (let i = 0; i < 6; i++) {
    const c = await chat(weir.url, 'db-gpt');
    assert.equal(c.status, 200, c.text);
  }
  assert.equal(mockA.requests.length, 6);
  assert.equal(mockA.requests[0]!.json.model, 'db-upstream');
  assert.equal(mockA.requests[0]!.headers.authorization, `Bearer ${SECRET}`);

  const models = await call(weir.url, '/v1/models', { headers: bearer(MASTER_KEY) });
  assert.deepEqual(models.json.data.map((m: { id: string }) => m.id).sort(), ['cfg-model', 'db-gpt']);
  const info = await call(weir.url, '/model/info', { headers: bearer(MASTER_KEY) });
  assert.ok(!info.text.includes(SECRET) && !info.text.includes('sk-config-key'), 'no credential in /model/info');
  const byName = Object.fromEntries(info.json.data.map((e: any) => [e.model_name, e]));
  assert.equal(byName['db-gpt'].model_info.db_model, true);
  assert.equal(byName['db-gpt'].model_info.id, 'db-1');
  assert.equal(byName['db-gpt'].litellm_params.api_key, undefined);
  assert.equal(byName['cfg-model'].model_info.db_model, false);
});

test('/model/update moves the model to a new api_base (the key is kept); PATCH /model/{id}/update renames it', async () => {
  await adminOk(weir.url, '/model/update', { model_info: { id: 'db-1' }, litellm_params: { api_base: `${mockB.url}/v1` } });
  mockA.requests.length = 0;
  mockB.requests.length = 0;
  for (let i = 0; i < 4; i++) assert.equal((await chat(weir.url, 'db-gpt')).status, 200);
  assert.equal(mockA.requests.length, 0);
  assert.equal(mockB.requests.length, 4);
  assert.equal(mockB.requests[0]!.headers.authorization, `Bearer ${SECRET}`);
  const stored = await row('db-1');
  assert.equal(decryptAtRest(stored.litellm_params.api_base, SALT), `${mockB.url}/v1`);
  assert.equal(decryptAtRest(stored.litellm_params.api_key, SALT), SECRET);

  const p = await adminOk(weir.url, '/model/db-1/update', { model_name: 'db-gpt-2' }, 'PATCH');
  assert.equal(p.model_name, 'db-gpt-2');
  assert.equal((await chat(weir.url, 'db-gpt-2')).status, 200);
  assert.equal((await chat(weir.url, 'db-gpt')).status, 400);
  await adminOk(weir.url, '/model/db-1/update', { model_name: 'db-gpt' }, 'PATCH');
});

test("the config's models are read-only: updating or deleting one is a 400 that says why", async () => {
  for (const [path, body] of [
    ['/model/update', { model_info: { id: 'cfg-1' }, litellm_params: { api_base: `${mockB.url}/v1` } }],
    ['/model/delete', { id: 'cfg-1' }],
  ] as const) {
    const r = await admin(weir.url, path, body);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.error.message, /config file/);
  }
  const p = await admin(weir.url, '/model/cfg-1/update', { model_name: 'x' }, 'PATCH');
  assert.equal(p.status, 400);
  assert.equal((await chat(weir.url, 'cfg-model')).status, 200);
});

test('bad input gets a clear 400 (403 for a key that is not an admin), and never echoes a credential', async () => {
  const lp = { model: 'openai/x', api_base: `${mockA.url}/v1`, api_key: SECRET_BAD };
  const cases: [unknown, RegExp][] = [
    [{ litellm_params: lp }, /model_name is required/],
    [{ model_name: '', litellm_params: lp }, /model_name is required/],
    [{ model_name: 'm' }, /litellm_params is required/],
    [{ model_name: 'm', litellm_params: 'openai/x' }, /litellm_params must be a JSON object/],
    [{ model_name: 'm', litellm_params: { ...lp, model: 'nosuchprovider/x' } }, /unknown provider "nosuchprovider"/],
    [{ model_name: 'm', litellm_params: { ...lp, model: 'my-own-model' } }, /cannot tell the provider/],
    [{ model_name: 'm', litellm_params: { ...lp, model: undefined } }, /litellm_params.model is required/],
    [{ model_name: 'm', litellm_params: { ...lp, rpm: 'lots' } }, /litellm_params.rpm/],
    [{ model_name: 'm', litellm_params: lp, model_info: { id: 'db-1' } }, /already exists/],
    [{ model_name: 'm', litellm_params: lp, model_info: { id: 'cfg-1' } }, /config file/],
    [{ model_name: 'm', litellm_params: lp, model_info: { team_id: 't1' } }, /team_id/],
  ];
  for (const [body, message] of cases) {
    const r = await admin(weir.url, '/model/new', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
    assert.equal(r.json.error.code, '400');
    assert.match(r.json.error.message, message);
    assert.ok(!r.text.includes(SECRET_BAD));
  }
  const noId = await admin(weir.url, '/model/update', { litellm_params: { api_base: 'http://x' } });
  assert.equal(noId.status, 400);
  assert.match(noId.json.error.message, /model_info.id not provided/);
  const missing = await admin(weir.url, '/model/update', { model_info: { id: 'nope' }, litellm_params: { api_key: SECRET_BAD } });
  assert.equal(missing.status, 400);
  assert.ok(!missing.text.includes(SECRET_BAD));
  const badUpdate = await admin(weir.url, '/model/update', { model_info: { id: 'db-1' }, litellm_params: { model: 'nosuchprovider/y' } });
  assert.equal(badUpdate.status, 400);
  assert.match(badUpdate.json.error.message, /unknown provider/);
  assert.equal((await chat(weir.url, 'db-gpt')).status, 200, 'a refused update changed nothing');

  const key = (await adminOk(weir.url, '/key/generate', {})).key as string;
  const r = await call(weir.url, '/model/new', { headers: bearer(key), body: { model_name: 'm', litellm_params: lp } });
  assert.equal(r.status, 403, r.text);
  const d = await call(weir.url, '/model/delete', { headers: bearer(key), body: { id: 'db-1' } });
  assert.equal(d.status, 403, d.text);
  assert.ok(!weir.output().includes(SECRET_BAD));
});

test("a row LiteLLM wrote (v3:gcm, v2:gcm and NaCl SecretBox values) is read; one under another salt key is left out and named", async () => {
  mockA.requests.length = 0;
  await pool.query(
    `INSERT INTO "LiteLLM_ProxyModelTable" (model_id, model_name, litellm_params, model_info, created_by, updated_by) VALUES ($1, $2, $3, $4, 'litellm', 'litellm'), ($5, $6, $7, $8, 'litellm', 'litellm')`,
    [
      'litellm-1',
      'litellm-row',
      JSON.stringify({ model: V3_MODEL, api_key: V2_KEY, api_base: encryptAtRest(`${mockA.url}/v1`, SALT, 'xsalsa20-poly1305'), rpm: 10 }),
      JSON.stringify({ id: 'litellm-1', db_model: false }),
      'other-salt-1',
      'other-salt-row',
      JSON.stringify({ model: encryptAtRest('openai/x', 'another-salt'), api_key: encryptAtRest(SECRET_BAD, 'another-salt') }),
      JSON.stringify({ id: 'other-salt-1' }),
    ],
  );
  // Written behind Weir's back: the table poll brings it in. Each worker takes the new model list
  // when the control thread posts it, a moment apart, so a chat right after /v1/models showed the
  // row may reach the other worker and be refused (400, the upstream never called): the wait is
  // for a chat served.
  await waitFor('the LiteLLM row in /v1/models', async () => {
    const m = await call(weir.url, '/v1/models', { headers: bearer(MASTER_KEY) });
    return m.json.data.some((x: { id: string }) => x.id === 'litellm-row');
  });
  await waitFor('a chat to the LiteLLM row served', async () => {
    const r = await chat(weir.url, 'litellm-row');
    if (r.status !== 200) assert.match(r.text, /Invalid model name/, 'refused only while a worker has not taken the row');
    return r.status === 200 ? r : null;
  });
  assert.equal(mockA.requests.length, 1);
  assert.equal(mockA.requests[0]!.json.model, 'gpt-4o-mini');
  assert.equal(mockA.requests[0]!.headers.authorization, `Bearer ${VECTOR_PLAIN}`);
  const info = await call(weir.url, '/model/info', { headers: bearer(MASTER_KEY) });
  const e = info.json.data.find((x: any) => x.model_name === 'litellm-row');
  assert.equal(e.model_info.db_model, true);
  assert.ok(!info.text.includes(VECTOR_PLAIN));
  assert.ok(!info.json.data.some((x: any) => x.model_name === 'other-salt-row'));
  assert.match(weir.output(), /database model other-salt-1 \(other-salt-row\) left out: litellm_params\.\w+ could not be decrypted/);
  await pool.query(`DELETE FROM "LiteLLM_ProxyModelTable" WHERE model_id = 'other-salt-1'`);
});

test('another instance on the same database serves a model made here within its table poll, and drops it once deleted', async (t) => {
  // Its own folder (journal) and no Redis between them: the 2-second table poll carries the change.
  const other = await startWeirOn(writeConfigFile(configYaml), { env });
  t.after(() => other.stop());
  await adminOk(weir.url, '/model/new', { model_name: 'db-shared', litellm_params: { model: 'openai/shared-upstream', api_base: `${mockB.url}/v1`, api_key: SECRET }, model_info: { id: 'shared-1' } });
  await waitFor('db-shared on the other instance', async () => (await chat(other.url, 'db-shared')).status === 200);
  await adminOk(weir.url, '/model/delete', { id: 'shared-1' });
  await waitFor('db-shared gone from the other instance', async () => (await chat(other.url, 'db-shared')).status === 400);
  assert.ok(!other.output().includes(SECRET));
});

test('/model/delete: the model is gone at once (400 model not found), and a second delete is a 400', async () => {
  const r = await adminOk(weir.url, '/model/delete', { id: 'db-1' });
  assert.equal(r.message, 'Model: db-1 deleted successfully');
  assert.equal(await row('db-1'), undefined);
  for (let i = 0; i < 4; i++) {
    const c = await chat(weir.url, 'db-gpt');
    assert.equal(c.status, 400, c.text);
  }
  const again = await admin(weir.url, '/model/delete', { id: 'db-1' });
  assert.equal(again.status, 400);
  assert.match(again.json.error.message, /Model with id=db-1 not found in db/);
});

test('a restart keeps the models; no credential was ever logged', async () => {
  await adminOk(weir.url, '/model/new', { model_name: 'db-keep', litellm_params: { model: 'openai/keep-upstream', api_base: `${mockB.url}/v1`, api_key: SECRET } });
  const before = weir.output();
  await weir.stop();
  weir = await startWeirOn(configPath, { env });
  assert.match(weir.output(), /db-keep/);
  mockB.requests.length = 0;
  assert.equal((await chat(weir.url, 'db-keep')).status, 200);
  assert.equal((await chat(weir.url, 'litellm-row')).status, 200);
  assert.equal(mockB.requests[0]!.headers.authorization, `Bearer ${SECRET}`);
  for (const out of [before, weir.output()]) {
    for (const secret of [SECRET, SECRET_BAD, VECTOR_PLAIN]) assert.ok(!out.includes(secret), `${secret} in the log`);
  }
});
