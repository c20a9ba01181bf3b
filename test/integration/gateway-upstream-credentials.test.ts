// Credentials in a deployment's api_base (`https://user:pass@host/…?api-key=…`) and in
// litellm_params.headers / extra_headers, end to end on the real gateway and the mock upstream:
// they reach the upstream on every path of the deployment, and appear nowhere a client or an
// operator reads (responses, headers, /model/info, upstream errors, the start and reload lines,
// --detailed_debug lines, reload errors).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const MASTER = 'sk-master-creds-TEST';
const AUTH = { authorization: `Bearer ${MASTER}` };
const USER = 'gw-user-7731';
const PASS = 'gw-pass-SECRET-90';
const QKEY = 'qkey-SECRET-4242';
const HDR = 'hdr-SECRET-5151';
const SECRETS = [USER, PASS, QKEY, HDR];
const BASIC = `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`;
const SHOWN = (port: number) => `http://****:****@127.0.0.1:${port}/v1?api-key=****`;

let mock: MockUpstream;
let gw: GatewayProcess;

function config(mockPort: number, extraModel = ''): string {
  const base = `http://${USER}:${PASS}@127.0.0.1:${mockPort}`;
  return `
model_list:
  - model_name: vllm
    litellm_params: { model: hosted_vllm/q, api_base: "${base}/v1?api-key=${QKEY}" }
  - model_name: oa
    litellm_params: { model: openai/gpt-4o, api_base: "${base}/v1?api-key=${QKEY}", api_key: sk-up-key-1, headers: { X-Tenant-Token: ${HDR} } }
  - model_name: claude
    litellm_params: { model: anthropic/claude-x, api_base: "${base}?api-key=${QKEY}", api_key: sk-ant-key-2, extra_headers: { X-Gw-Token: ${HDR} } }
${extraModel}
general_settings:
  master_key: ${MASTER}
router_settings:
  num_retries: 0
`;
}

before(async () => {
  mock = await startMockUpstream();
  gw = await startGateway({ config: config(mock.port), args: ['--detailed_debug'] });
});

after(async () => {
  await gw?.stop();
  await mock?.close();
});

function noSecrets(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} contains ${s}: ${text.slice(0, 500)}`);
}

const chatBody = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });

test('userinfo goes upstream as Basic authorization (when the provider sets none) and the query on every path', async () => {
  mock.reset();
  const v = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chatBody('vllm') });
  assert.equal(v.status, 200, v.text);
  const e = await call(gw.url, '/v1/embeddings', { headers: AUTH, body: { model: 'vllm', input: 'hi' } });
  assert.equal(e.status, 200, e.text);
  const o = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chatBody('oa') });
  assert.equal(o.status, 200, o.text);
  mock.enqueue({ json: { id: 'resp_1', object: 'response', status: 'completed', output: [], usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 } } });
  const r = await call(gw.url, '/v1/responses', { headers: AUTH, body: { model: 'oa', input: 'hi' } });
  assert.equal(r.status, 200, r.text);
  const a = await call(gw.url, '/v1/messages', { headers: { 'x-api-key': MASTER, 'anthropic-version': '2023-06-01' }, body: chatBody('claude') });
  assert.equal(a.status, 200, a.text);
  const c = await call(gw.url, '/v1/messages/count_tokens', { headers: { 'x-api-key': MASTER }, body: { model: 'claude', messages: [{ role: 'user', content: 'hi' }] } });
  assert.equal(c.status, 200, c.text);

  const seen = mock.requests.map((q) => ({ path: q.path, query: q.query, authorization: q.headers.authorization, xApiKey: q.headers['x-api-key'], tenant: q.headers['x-tenant-token'], gw: q.headers['x-gw-token'] }));
  assert.deepEqual(seen, [
    { path: '/v1/chat/completions', query: `api-key=${QKEY}`, authorization: BASIC, xApiKey: undefined, tenant: undefined, gw: undefined },
    { path: '/v1/embeddings', query: `api-key=${QKEY}`, authorization: BASIC, xApiKey: undefined, tenant: undefined, gw: undefined },
    { path: '/v1/chat/completions', query: `api-key=${QKEY}`, authorization: 'Bearer sk-up-key-1', xApiKey: undefined, tenant: HDR, gw: undefined },
    { path: '/v1/responses', query: `api-key=${QKEY}`, authorization: 'Bearer sk-up-key-1', xApiKey: undefined, tenant: HDR, gw: undefined },
    { path: '/v1/messages', query: `api-key=${QKEY}`, authorization: BASIC, xApiKey: 'sk-ant-key-2', tenant: undefined, gw: HDR },
    { path: '/v1/messages/count_tokens', query: `api-key=${QKEY}`, authorization: BASIC, xApiKey: 'sk-ant-key-2', tenant: undefined, gw: HDR },
  ]);
  // Nothing the client got back carries a credential; the api_base header is the masked one.
  for (const x of [v, e, o, r, a, c]) {
    noSecrets(x.text + JSON.stringify(x.headers), 'a response');
  }
  assert.equal(v.headers['x-litellm-model-api-base'], SHOWN(mock.port));
});

test('/model/info and /v1/models show the api_base masked and no header value', async () => {
  const info = await call(gw.url, '/model/info', { headers: AUTH });
  assert.equal(info.status, 200);
  noSecrets(info.text, '/model/info');
  const vllm = (info.json.data as any[]).find((d) => d.model_name === 'vllm');
  assert.equal(vllm.litellm_params.api_base, SHOWN(mock.port));
  const oa = (info.json.data as any[]).find((d) => d.model_name === 'oa');
  assert.deepEqual(oa.litellm_params.headers, { 'X-Tenant-Token': '[redacted]' });
  noSecrets((await call(gw.url, '/v1/models', { headers: AUTH })).text, '/v1/models');
});

test('an upstream error that echoes a credential of the URL or a header is scrubbed', async () => {
  mock.enqueue({ status: 400, errorMessage: `bad request to ${USER}:${PASS} with api-key=${QKEY} and token ${HDR}` });
  const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chatBody('oa') });
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /\[redacted\]/);
  noSecrets(r.text, 'the upstream error');
});

test('start lines, --detailed_debug lines, reloads and refused reloads print no credential', async () => {
  const port = mock.port;
  // A reload refused for a wrong type beside an api_base holding credentials: the answer and the log name the path, not the secret.
  fs.writeFileSync(gw.configPath, config(port, `  - model_name: bad\n    litellm_params: { model: openai/x, timeout: soon, api_base: "https://${USER}:${PASS}@h/v1?api-key=${QKEY}" }\n`));
  const refused = await call(gw.url, '/config/reload', { method: 'POST', headers: AUTH });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.json.error.message, /model_list\[3\]\.litellm_params\.timeout: expected a number greater than 0/);
  noSecrets(refused.text, 'the refused reload');
  await gw.waitForOutput(/config reload \(POST \/config\/reload\) refused/, 5_000);
  // An api_base that is no http(s) URL is the deployment's problem, as in LiteLLM: the reload is taken,
  // and the reload line and the deployment's 503 name it masked.
  fs.writeFileSync(gw.configPath, config(port, `  - model_name: bad\n    litellm_params: { model: openai/x, api_key: k, api_base: "ftp://${USER}:${PASS}@h/v1?api-key=${QKEY}" }\n`));
  const taken = await call(gw.url, '/config/reload', { method: 'POST', headers: AUTH });
  assert.equal(taken.status, 200, taken.text);
  await gw.waitForOutput(/config reloaded \(POST \/config\/reload\).*bad → openai\/x \[unavailable: litellm_params\.api_base is not an http:\/\/ or https:\/\/ URL/, 5_000);
  const down = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chatBody('bad') });
  assert.equal(down.status, 503, down.text);
  assert.match(down.json.error.message, /api_base is not an http:\/\/ or https:\/\/ URL \("ftp:\/\/\*\*\*\*:\*\*\*\*@h\/v1\?api-key=\*\*\*\*"\)/);
  noSecrets(down.text, 'the unavailable deployment');
  // And a good one.
  fs.writeFileSync(gw.configPath, config(port));
  const ok = await call(gw.url, '/config/reload', { method: 'POST', headers: AUTH });
  assert.equal(ok.status, 200, ok.text);
  await gw.waitForOutput(/config reloaded \(POST \/config\/reload\)/, 5_000);
  // One more call so a --detailed_debug line of a served request is in the output.
  assert.equal((await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chatBody('vllm') })).status, 200);
  await gw.waitForOutput(/debug .*POST \/v1\/chat\/completions model=vllm/, 5_000);
  noSecrets(gw.output(), 'the gateway output');
});
