// POST /v1/responses (Codex): passed through to deployments that serve the Responses API, and
// translated to chat completions (and on to Anthropic messages) for the others.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

describe('/v1/responses', () => {
  let mock: MockUpstream;
  let gw: GatewayProcess;
  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: vllm
    litellm_params: { model: hosted_vllm/qwen, api_base: ${mock.url}/v1 }
  - model_name: claude
    litellm_params: { model: anthropic/claude-up, api_base: ${mock.url}, api_key: sk-ant }
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.url}/v1, api_key: sk-oa }
  - model_name: builtin
    litellm_params: { model: mock/m }
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  const codex = (model: string, stream = false) => ({ model, stream, instructions: 'You are Codex.', input: [{ role: 'user', content: [{ type: 'input_text', text: 'list files' }] }] });

  it('translates to chat completions for a deployment without the Responses API', async () => {
    mock.reset();
    const r = await call(gw.url, '/v1/responses', { body: codex('vllm') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'response');
    assert.equal(r.json.model, 'vllm');
    assert.equal(r.json.output.at(-1).content[0].text, 'Hello from mock');
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.deepEqual(seen.json.messages[0], { role: 'system', content: 'You are Codex.' });
  });

  it('streams Responses events from a chat upstream', async () => {
    const r = await call(gw.url, '/v1/responses', { body: codex('vllm', true) });
    assert.equal(r.status, 200);
    const types = parseSse(r.text).map((e) => e.event);
    assert.equal(types[0], 'response.created');
    assert.ok(types.includes('response.output_text.delta'));
    assert.equal(types.at(-1), 'response.completed');
  });

  it('reaches an Anthropic deployment through chat, streaming and not', async () => {
    const r = await call(gw.url, '/v1/responses', { body: codex('claude') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.output.at(-1).content[0].text, 'Hello from mock');
    assert.equal(mock.requests.at(-1)!.path, '/v1/messages');
    const s = await call(gw.url, '/v1/responses', { body: codex('claude', true) });
    assert.equal(parseSse(s.text).at(-1)!.event, 'response.completed');
  });

  it('passes through to an OpenAI deployment that serves the Responses API', async () => {
    mock.reset();
    await call(gw.url, '/v1/responses', { body: codex('gpt') });
    assert.equal(mock.requests.at(-1)!.path, '/v1/responses');
    assert.equal(mock.requests.at(-1)!.json.model, 'gpt-4o');
  });

  it('is served by the built-in mock provider', async () => {
    const r = await call(gw.url, '/v1/responses', { body: codex('builtin', true) });
    assert.equal(r.status, 200);
    assert.equal(parseSse(r.text).at(-1)!.event, 'response.completed');
  });
});

describe('/v1/embeddings', () => {
  it('passes through to OpenAI-compatible deployments and refuses groups that cannot embed', async () => {
    const mock = await startMockUpstream();
    const gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${mock.url}/v1, api_key: sk-e }
  - model_name: claude
    litellm_params: { model: anthropic/claude-up, api_base: ${mock.url}, api_key: sk-ant }
`,
    });
    try {
      const r = await call(gw.url, '/v1/embeddings', { body: { model: 'embed', input: 'hello' } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.data[0].embedding, [0.1, 0.2, 0.3]);
      assert.equal(mock.requests.at(-1)!.path, '/v1/embeddings');
      assert.equal(mock.requests.at(-1)!.json.model, 'text-embedding-3-small');
      const bad = await call(gw.url, '/v1/embeddings', { body: { model: 'claude', input: 'hello' } });
      assert.equal(bad.status, 400);
      assert.match(bad.json.error.message, /embeddings/);
    } finally {
      await gw.stop();
      await mock.close();
    }
  });
});

describe('provider pass-through routes', () => {
  it('/anthropic/* and /openai/* reach the provider with its env credentials, authenticated by Weir keys', async () => {
    const mock = await startMockUpstream();
    const gw = await startGateway({
      workers: 1,
      env: { ANTHROPIC_API_BASE: mock.url, ANTHROPIC_API_KEY: 'sk-ant-env', OPENAI_API_BASE: mock.url, OPENAI_API_KEY: 'sk-oa-env' },
      config: `model_list: []\ngeneral_settings: { master_key: sk-pt-master }\n`,
    });
    try {
      const a = await call(gw.url, '/anthropic/v1/messages?beta=true', {
        headers: { 'x-api-key': 'sk-pt-master', 'anthropic-version': '2023-06-01' },
        body: { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(a.status, 200, a.text);
      assert.equal(parseSse(a.text).at(-1)!.event, 'message_stop');
      const seen = mock.requests.at(-1)!;
      assert.equal(seen.path, '/v1/messages');
      assert.equal(seen.query, 'beta=true');
      assert.equal(seen.headers['x-api-key'], 'sk-ant-env', 'the provider key, not the Weir key');
      assert.equal(seen.headers['anthropic-version'], '2023-06-01');
      const o = await call(gw.url, '/openai/v1/chat/completions', { headers: { authorization: 'Bearer sk-pt-master' }, body: { model: 'gpt-4o', messages: [] } });
      assert.equal(o.status, 200);
      assert.equal(mock.requests.at(-1)!.headers.authorization, 'Bearer sk-oa-env');
      // Weir's own answers on /anthropic/* are in Anthropic's shape, on /openai/* in OpenAI's.
      const denied = await call(gw.url, '/anthropic/v1/messages', { headers: { 'x-api-key': 'sk-wrong' }, body: {} });
      assert.equal(denied.status, 401);
      assert.equal(denied.json.type, 'error');
      assert.equal(denied.json.error.type, 'authentication_error');
      const deniedOpenAI = await call(gw.url, '/openai/v1/chat/completions', { headers: { authorization: 'Bearer sk-wrong' }, body: {} });
      assert.equal(deniedOpenAI.status, 401);
      assert.equal(deniedOpenAI.json.error.code, '401');
      mock.enqueue({ reset: true });
      const dropped = await call(gw.url, '/anthropic/v1/messages', { headers: { 'x-api-key': 'sk-pt-master' }, body: { model: 'claude-x', max_tokens: 5, messages: [] } });
      assert.equal(dropped.status, 502);
      assert.equal(dropped.json.type, 'error');
      assert.equal(dropped.json.error.type, 'api_error');
      assert.match(dropped.json.error.message, /pass-through upstream failed/);
    } finally {
      await gw.stop();
      await mock.close();
    }
  });
});
