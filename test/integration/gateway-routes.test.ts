// Every endpoint of the gateway core, through the real gateway process to a real mock upstream,
// under both HTTP engines.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const MASTER = 'sk-master-routes-TEST';
const AUTH = { authorization: `Bearer ${MASTER}` };

function config(mock: string): string {
  return `
model_list:
  - model_name: gpt-test
    litellm_params: { model: openai/upstream-gpt, api_base: ${mock}/v1, api_key: sk-upstream-openai-SECRET }
    model_info: { id: dep-gpt, custom_field: kept }
  - model_name: claude-test
    litellm_params: { model: anthropic/upstream-claude, api_base: ${mock}, api_key: sk-ant-upstream-SECRET }
    model_info: { id: dep-claude }
  - model_name: azure-test
    litellm_params: { model: azure/my-deployment, api_base: ${mock}, api_key: azure-SECRET, api_version: "2024-06-01" }
  - model_name: vllm-test
    litellm_params: { model: hosted_vllm/meta-llama, api_base: ${mock}/v1 }
  - model_name: groq-test
    litellm_params: { model: groq/llama3, api_base: ${mock}/v1, api_key: gsk-SECRET }
  - model_name: headers-test
    litellm_params:
      model: openai/with-headers
      api_base: ${mock}/v1
      api_key: sk-h-SECRET
      extra_headers: { X-Custom-Header: custom-value }
  - model_name: mock-test
    litellm_params: { model: mock/builtin }
general_settings:
  master_key: ${MASTER}
unknown_top_level_section: { ignored: true }
`;
}

for (const engine of ['uws', 'node']) {
  describe(`gateway routes (${engine})`, () => {
    let mock: MockUpstream;
    let gw: GatewayProcess;

    before(async () => {
      mock = await startMockUpstream();
      gw = await startGateway({ config: config(mock.url), engine });
    });
    after(async () => {
      await gw?.stop();
      await mock?.close();
    });

    it('starts on the engine it was asked for', () => {
      assert.match(gw.output(), engine === 'uws' ? /http engine: uWebSockets\.js/ : /http engine: node:http/);
    });

    it('forwards a chat completion with only the model changed', async () => {
      mock.reset();
      const raw = `{"model": "gpt-test", "messages": [{"role": "user", "content": "say \\"hi\\""}], "temperature": 0.2, "metadata": {"model": "nested-not-touched"}}`;
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: raw });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.object, 'chat.completion');
      assert.equal(r.json.model, 'upstream-gpt');
      const seen = mock.requests.at(-1)!;
      assert.equal(seen.path, '/v1/chat/completions');
      assert.equal(seen.headers.authorization, 'Bearer sk-upstream-openai-SECRET');
      assert.equal(seen.body.toString(), raw.replace('"gpt-test"', '"upstream-gpt"'));
    });

    it('sets the x-litellm response headers', async () => {
      const r = await call(gw.url, '/chat/completions', { headers: AUTH, body: { model: 'gpt-test', messages: [] } });
      assert.equal(r.status, 200);
      assert.match(r.headers['x-litellm-call-id']!, /^[0-9a-f-]{36}$/);
      assert.equal(r.headers['x-litellm-model-id'], 'dep-gpt');
      assert.equal(r.headers['x-litellm-model-group'], 'gpt-test');
      assert.equal(r.headers['x-litellm-model-api-base'], `${mock.url}/v1`);
      const total = Number(r.headers['x-litellm-response-duration-ms']);
      const overhead = Number(r.headers['x-litellm-overhead-duration-ms']);
      assert.ok(total > 0 && overhead >= 0 && overhead <= total, `${total} ${overhead}`);
    });

    it('streams a chat completion event by event', async () => {
      const r = await call(gw.url, '/v1/chat/completions', {
        headers: AUTH,
        body: { model: 'gpt-test', stream: true, messages: [], mock_behavior: { deltas: 12 } },
      });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type']!, /text\/event-stream/);
      const events = parseSse(r.text);
      assert.equal(events.at(-1)!.data, '[DONE]');
      const deltas = events.filter((e) => e.data.includes('"content":"tok'));
      assert.equal(deltas.length, 12);
    });

    it('forwards /v1/messages with the Anthropic headers, streaming and not', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/messages?beta=true', {
        headers: { 'x-api-key': MASTER, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14' },
        body: { model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.type, 'message');
      const seen = mock.requests.at(-1)!;
      assert.equal(seen.path, '/v1/messages');
      assert.equal(seen.headers['x-api-key'], 'sk-ant-upstream-SECRET');
      assert.equal(seen.headers['anthropic-version'], '2023-06-01');
      assert.equal(seen.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14');
      assert.equal(seen.headers.authorization, undefined);
      assert.equal(seen.json.model, 'upstream-claude');

      const s = await call(gw.url, '/v1/messages', {
        headers: { 'x-api-key': MASTER },
        body: { model: 'claude-test', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], mock_behavior: { deltas: 5 } },
      });
      assert.equal(s.status, 200);
      const types = parseSse(s.text).map((e) => e.event);
      assert.deepEqual(types, ['message_start', 'content_block_start', ...Array(5).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop']);
      // Without the client's anthropic-version the upstream still gets one.
      assert.equal(mock.requests.at(-1)!.headers['anthropic-version'], '2023-06-01');
    });

    it('calls Azure with the deployment URL, api-version and api-key', async () => {
      mock.reset();
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'azure-test', messages: [] } });
      assert.equal(r.status, 200, r.text);
      const seen = mock.requests.at(-1)!;
      assert.equal(seen.path, '/openai/deployments/my-deployment/chat/completions');
      assert.equal(seen.query, 'api-version=2024-06-01');
      assert.equal(seen.headers['api-key'], 'azure-SECRET');
      assert.equal(seen.headers.authorization, undefined);
    });

    it('serves OpenAI-compatible prefixes through their api_base', async () => {
      mock.reset();
      const v = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'vllm-test', messages: [] } });
      assert.equal(v.status, 200);
      assert.equal(mock.requests.at(-1)!.headers.authorization, undefined, 'no key configured: none sent');
      assert.equal(mock.requests.at(-1)!.json.model, 'meta-llama');
      const g = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'groq-test', messages: [] } });
      assert.equal(g.status, 200);
      assert.equal(mock.requests.at(-1)!.headers.authorization, 'Bearer gsk-SECRET');
      const h = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'headers-test', messages: [] } });
      assert.equal(h.status, 200);
      assert.equal(mock.requests.at(-1)!.headers['x-custom-header'], 'custom-value');
    });

    it('answers from the built-in mock provider in both dialects', async () => {
      const c = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'mock-test', messages: [] } });
      assert.equal(c.status, 200);
      assert.match(c.json.choices[0].message.content, /mock response/);
      const m = await call(gw.url, '/v1/messages', { headers: { 'x-api-key': MASTER }, body: { model: 'mock-test', stream: true, messages: [] } });
      assert.equal(m.status, 200);
      assert.equal(parseSse(m.text).at(-1)!.event, 'message_stop');
      assert.equal(c.headers['x-litellm-model-api-base'], 'mock://weir');
    });

    it('lists models and model info without secrets', async () => {
      for (const path of ['/v1/models', '/models']) {
        const r = await call(gw.url, path, { headers: AUTH });
        assert.equal(r.status, 200);
        assert.equal(r.json.object, 'list');
        assert.deepEqual(
          r.json.data.map((m: { id: string }) => m.id).sort(),
          ['azure-test', 'claude-test', 'gpt-test', 'groq-test', 'headers-test', 'mock-test', 'vllm-test'],
        );
        assert.equal(r.json.data.find((m: { id: string }) => m.id === 'claude-test').owned_by, 'anthropic');
      }
      const info = await call(gw.url, '/model/info', { headers: AUTH });
      assert.equal(info.status, 200);
      assert.doesNotMatch(info.text, /SECRET|custom-value/);
      const gpt = info.json.data.find((d: { model_name: string }) => d.model_name === 'gpt-test');
      assert.equal(gpt.model_info.id, 'dep-gpt');
      assert.equal(gpt.model_info.custom_field, 'kept');
      assert.equal(gpt.litellm_params.model, 'openai/upstream-gpt');
      assert.equal(gpt.litellm_params.api_key, undefined);
      assert.equal((await call(gw.url, '/v1/model/info', { headers: AUTH })).status, 200);
      assert.equal((await call(gw.url, '/v1/models')).status, 401, 'model list needs a key');
    });

    it('answers the public health and root routes without a key', async () => {
      for (const path of ['/health/liveliness', '/health/liveness']) {
        const r = await call(gw.url, path);
        assert.equal(r.status, 200);
        assert.equal(r.json, "I'm alive!");
      }
      const ready = await call(gw.url, '/health/readiness');
      assert.equal(ready.status, 200);
      assert.equal(ready.json.status, 'healthy');
      const root = await call(gw.url, '/');
      assert.equal(root.status, 200);
      const head = await call(gw.url, '/', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.text, '');
      const hello = await call(gw.url, '/api/hello', { method: 'HEAD' });
      assert.equal(hello.status, 200);
    });

    it('answers unknown routes 404 and wrong methods 405', async () => {
      const r = await call(gw.url, '/v1/nope', { headers: AUTH });
      assert.equal(r.status, 404);
      assert.equal(r.json.error.code, '404');
      const m = await call(gw.url, '/v1/chat/completions', { headers: AUTH });
      assert.equal(m.status, 405);
      assert.match(r.json.error.message, /\/v1\/nope/);
    });

    it('reads the key from every header LiteLLM reads', async () => {
      const body = { model: 'gpt-test', messages: [] };
      for (const headers of [
        { 'x-litellm-api-key': MASTER },
        { 'x-litellm-api-key': `Bearer ${MASTER}` },
        { authorization: `bearer ${MASTER}` },
        { 'api-key': MASTER },
        { 'x-api-key': MASTER },
        { 'x-goog-api-key': MASTER },
        { 'ocp-apim-subscription-key': MASTER },
      ] as Record<string, string>[]) {
        const r = await call(gw.url, '/v1/chat/completions', { headers, body });
        assert.equal(r.status, 200, JSON.stringify(headers));
      }
      // x-litellm-api-key wins over a wrong Authorization (Claude Code BYOK sends both).
      const both = await call(gw.url, '/v1/chat/completions', { headers: { 'x-litellm-api-key': MASTER, authorization: 'Bearer sk-user-own' }, body });
      assert.equal(both.status, 200);
    });

    it('refuses wrong, missing and malformed keys in the endpoint dialect', async () => {
      const body = { model: 'gpt-test', messages: [] };
      const wrong = await call(gw.url, '/v1/chat/completions', { headers: { authorization: 'Bearer sk-wrong-key-1234' }, body });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.error.type, 'auth_error');
      assert.equal(wrong.json.error.code, '401');
      assert.doesNotMatch(wrong.text, /sk-wrong-key-1234/);
      const none = await call(gw.url, '/v1/chat/completions', { body });
      assert.equal(none.status, 401);
      assert.match(none.json.error.message, /No api key passed in/);
      const malformed = await call(gw.url, '/v1/chat/completions', { headers: { authorization: `Token ${MASTER}` }, body });
      assert.equal(malformed.status, 401);
      assert.match(malformed.json.error.message, /Malformed API Key/);
      const anth = await call(gw.url, '/v1/messages', { headers: { 'x-api-key': 'sk-wrong' }, body: { model: 'claude-test', messages: [] } });
      assert.equal(anth.status, 401);
      assert.equal(anth.json.type, 'error');
      assert.equal(anth.json.error.type, 'authentication_error');
    });

    it('serves a request whose deployment speaks the other dialect through translation', async () => {
      const c = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'claude-test', messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.json.object, 'chat.completion');
      const m = await call(gw.url, '/v1/messages', { headers: { 'x-api-key': MASTER }, body: { model: 'gpt-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } });
      assert.equal(m.status, 200, m.text);
      assert.equal(m.json.type, 'message');
    });
  });
}

describe('gateway without a master key', () => {
  it('lets every request through, as LiteLLM does', async () => {
    const mock = await startMockUpstream();
    const gw = await startGateway({ config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/m, api_base: ${mock.url}/v1, api_key: k }\n`, workers: 1 });
    try {
      const r = await call(gw.url, '/v1/chat/completions', { body: { model: 'm', messages: [] } });
      assert.equal(r.status, 200);
      assert.equal((await call(gw.url, '/v1/models')).status, 200);
      assert.match(gw.output(), /auth: none/);
    } finally {
      await gw.stop();
      await mock.close();
    }
  });
});
