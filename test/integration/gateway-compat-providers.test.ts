// The OpenAI-compatible providers and Ollama's native API through the real gateway process: a
// sample of the table's prefixes pointed at the mock upstream (the path, the auth header from the
// provider's own variable and the model it saw; streamed and not), the parameters a provider
// refuses, Ollama's /api/chat and /api/generate against a fake Ollama (request, NDJSON stream split
// at every byte, usage from prompt_eval_count / eval_count, an Anthropic client's tool call), and
// deployments that start unavailable with the reason on the start line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama';

const MASTER = 'sk-master-compat-TEST';
const AUTH = { authorization: `Bearer ${MASTER}` };

let mock: MockUpstream;
let ollama: FakeOllama;
let gw: GatewayProcess;

/** [model_name, litellm_params.model, key variable, key, how the base is given]. */
const TABLE: [string, string, string, string, 'param' | string][] = [
  ['nv', 'nvidia_nim/meta/llama-3.1-8b-instruct', 'NVIDIA_NIM_API_KEY', 'nv-key-1111', 'NVIDIA_NIM_API_BASE'],
  ['or', 'openrouter/anthropic/claude-3.5-sonnet', 'OPENROUTER_API_KEY', 'or-key-2222', 'param'],
  ['tg', 'together_ai/meta-llama/Llama-3-70b', 'TOGETHER_API_KEY', 'tg-key-3333', 'TOGETHER_AI_API_BASE'],
  ['fw', 'fireworks_ai/accounts/fireworks/models/llama-v3', 'FIREWORKS_AI_API_KEY', 'fw-key-4444', 'param'],
  ['ms', 'mistral/mistral-large-latest', 'MISTRAL_API_KEY', 'ms-key-5555', 'MISTRAL_AZURE_API_BASE'],
  ['px', 'perplexity/sonar-pro', 'PERPLEXITY_API_KEY', 'px-key-6666', 'PERPLEXITY_API_BASE'],
  ['db', 'databricks/databricks-dbrx-instruct', 'DATABRICKS_API_KEY', 'db-key-7777', 'DATABRICKS_API_BASE'],
  ['ds', 'deepseek/deepseek-chat', 'DEEPSEEK_API_KEY', 'ds-key-8888', 'DEEPSEEK_API_BASE'],
  ['hf', 'huggingface/meta-llama/Llama-3.3-70B-Instruct', 'HF_TOKEN', 'hf-key-9999', 'HF_API_BASE'],
  ['cb', 'cerebras/llama3.1-8b', 'CEREBRAS_API_KEY', 'cb-key-0000', 'param'],
];

before(async () => {
  mock = await startMockUpstream();
  ollama = await startFakeOllama();
  const env: Record<string, string | undefined> = { WEIR_COMPAT_UNSET_KEY: undefined, AZURE_API_BASE: 'my-resource.openai.azure.com', AZURE_API_KEY: 'az-k' };
  const models: string[] = [];
  for (const [name, model, keyVar, key, base] of TABLE) {
    env[keyVar] = key;
    if (base === 'param') models.push(`  - {model_name: ${name}, litellm_params: {model: ${model}, api_base: "${mock.url}/v1"}}`);
    else {
      env[base] = `${mock.url}/v1`;
      models.push(`  - {model_name: ${name}, litellm_params: {model: ${model}}}`);
    }
  }
  gw = await startGateway({
    env,
    config: `
model_list:
${models.join('\n')}
  - {model_name: dmr, litellm_params: {model: docker_model_runner/ai/llama3.2, api_base: "${mock.url}"}}
  - {model_name: px-drop, litellm_params: {model: perplexity/sonar-pro, drop_params: true}}
  - {model_name: oc, litellm_params: {model: ollama_chat/llama3.1, api_base: "${ollama.url}"}}
  - {model_name: og, litellm_params: {model: ollama/llama3.1, api_base: "${ollama.url}"}}
  - {model_name: o-missing, litellm_params: {model: ollama_chat/not-pulled, api_base: "${ollama.url}"}}
  - {model_name: placeholder, litellm_params: {model: azure/gpt-4o, api_base: "https://<your-resource>.openai.azure.com/", api_key: k}}
  - {model_name: unset, litellm_params: {model: openai/gpt-4o, api_key: os.environ/WEIR_COMPAT_UNSET_KEY}}
  - {model_name: az-env, litellm_params: {model: azure/gpt-4o-prod}}
  - {model_name: co, litellm_params: {model: cohere_chat/command-r}}
general_settings:
  master_key: ${MASTER}
router_settings:
  num_retries: 0
`,
  });
});

after(async () => {
  await gw?.stop();
  await mock?.close();
  await ollama?.close();
});

const chat = (model: string, extra: object = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8, ...extra });

test('table providers: the path, the key from the provider\'s own variable as a bearer token, and the model, streamed and not', async () => {
  for (const [name, model, , key] of TABLE) {
    const upstreamModel = model.slice(model.indexOf('/') + 1);
    for (const stream of [false, true]) {
      const before = mock.requests.length;
      const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat(name, { stream }) });
      assert.equal(r.status, 200, `${name} stream=${stream}: ${r.text}`);
      const seen = mock.requests[before]!;
      assert.equal(seen.path, '/v1/chat/completions', name);
      assert.equal(seen.headers.authorization, `Bearer ${key}`, name);
      assert.equal(seen.json.model, upstreamModel, name);
      if (stream) {
        const events = parseSse(r.text);
        assert.equal(events.at(-1)!.data, '[DONE]', name);
        assert.ok(events.some((e) => e.data.includes('"delta"')), name);
      } else {
        assert.equal(r.json.object, 'chat.completion', name);
      }
    }
  }
});

test('docker_model_runner: /v1/chat/completions under the engine base, no key, max_completion_tokens sent as max_tokens', async () => {
  const before = mock.requests.length;
  const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model: 'dmr', messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 9 } });
  assert.equal(r.status, 200, r.text);
  const seen = mock.requests[before]!;
  assert.equal(seen.headers.authorization, undefined);
  assert.equal(seen.json.max_tokens, 9);
  assert.equal(seen.json.max_completion_tokens, undefined);
});

test('a parameter the provider refuses: 400 in the client\'s dialect without drop_params, dropped with it or when the gateway translated', async () => {
  const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
  const before = mock.requests.length;
  const refused = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat('px', { tools }) });
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.json.error.message, /perplexity does not support parameters: \["tools"\]/);
  assert.equal(refused.json.error.param, 'tools');
  assert.equal(mock.requests.length, before, 'nothing was sent upstream');

  const dropped = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat('px-drop', { tools }) });
  assert.equal(dropped.status, 200, dropped.text);
  assert.equal(mock.requests.at(-1)!.json.tools, undefined);
  assert.equal(mock.requests.at(-1)!.headers.authorization, 'Bearer px-key-6666');

  // An Anthropic client's call is translated by the gateway: what the provider refuses is left out.
  const m = await call(gw.url, '/v1/messages', {
    headers: { 'x-api-key': MASTER },
    body: { model: 'px', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'f', input_schema: { type: 'object' } }] },
  });
  assert.equal(m.status, 200, m.text);
  assert.equal(mock.requests.at(-1)!.json.tools, undefined);
  assert.equal(m.json.type, 'message');
});

test('ollama_chat/: Ollama\'s /api/chat, the answer as a chat completion with usage from prompt_eval_count / eval_count', async () => {
  ollama.next.push({ text: 'Bonjour!', promptEvalCount: 21, evalCount: 4 });
  const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat('oc', { temperature: 0.3, stop: 'END', num_ctx: 4096 }) });
  assert.equal(r.status, 200, r.text);
  const sent = ollama.requests.at(-1)!;
  assert.equal(sent.path, '/api/chat');
  assert.equal(sent.json.model, 'llama3.1');
  assert.equal(sent.json.stream, false);
  assert.deepEqual(sent.json.messages, [{ role: 'user', content: 'hi' }]);
  assert.deepEqual(sent.json.options, { num_predict: 8, temperature: 0.3, stop: ['END'], num_ctx: 4096 });
  assert.equal(r.json.object, 'chat.completion');
  assert.equal(r.json.choices[0].message.content, 'Bonjour!');
  assert.equal(r.json.choices[0].finish_reason, 'stop');
  assert.deepEqual(r.json.usage, { prompt_tokens: 21, completion_tokens: 4, total_tokens: 25 });
});

test('ollama_chat/ stream: NDJSON written one byte at a time (lines and UTF-8 split anywhere) becomes chat chunks, usage last when asked', async () => {
  ollama.next.push({ text: 'Grüße, 世界! ✓', pieces: 4, chunkBytes: 1, promptEvalCount: 13, evalCount: 6 });
  const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat('oc', { stream: true, stream_options: { include_usage: true } }) });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers['content-type']!, /text\/event-stream/);
  assert.equal(ollama.requests.at(-1)!.json.stream, true);
  const events = parseSse(r.text);
  assert.equal(events.at(-1)!.data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
  assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'Grüße, 世界! ✓');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.some((c) => c.choices[0]?.finish_reason === 'stop'));
  assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 13, completion_tokens: 6, total_tokens: 19 });
  // Not asked for: no usage chunk reaches the client.
  ollama.next.push({ text: 'plain', chunkBytes: 7 });
  const plain = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat('oc', { stream: true }) });
  assert.ok(!parseSse(plain.text).some((e) => e.data !== '[DONE]' && JSON.parse(e.data).usage));
});

test('ollama_chat/ through /v1/messages: a tool call comes back as tool_use, usage in message_delta, the tool result goes back as a tool message', async () => {
  ollama.next.push({ toolCall: { name: 'get_weather', arguments: { city: 'Paris' } }, chunkBytes: 5, promptEvalCount: 30, evalCount: 9 });
  const r = await call(gw.url, '/v1/messages', {
    headers: { 'x-api-key': MASTER },
    body: {
      model: 'oc',
      max_tokens: 64,
      stream: true,
      tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      messages: [{ role: 'user', content: 'weather?' }],
    },
  });
  assert.equal(r.status, 200, r.text);
  const sent = ollama.requests.at(-1)!.json;
  assert.equal(sent.tools[0].function.name, 'get_weather');
  const events = parseSse(r.text).map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
  const start = events.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use')!;
  assert.equal(start.data.content_block.name, 'get_weather');
  const input = events.filter((e) => e.event === 'content_block_delta' && e.data.delta.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
  assert.deepEqual(JSON.parse(input), { city: 'Paris' });
  const delta = events.find((e) => e.event === 'message_delta')!;
  assert.equal(delta.data.delta.stop_reason, 'tool_use');
  assert.equal(delta.data.usage.output_tokens, 9);

  // The next turn carries the call and its result in Ollama's shape.
  ollama.next.push({ text: 'Sunny.' });
  const id = start.data.content_block.id;
  const next = await call(gw.url, '/v1/messages', {
    headers: { 'x-api-key': MASTER },
    body: {
      model: 'oc',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [{ type: 'tool_use', id, name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: '22C' }] },
      ],
    },
  });
  assert.equal(next.status, 200, next.text);
  assert.equal(next.json.content[0].text, 'Sunny.');
  const msgs = ollama.requests.at(-1)!.json.messages;
  assert.deepEqual(msgs[1].tool_calls, [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }]);
  assert.deepEqual({ role: msgs[2].role, content: msgs[2].content }, { role: 'tool', content: '22C' });
});

test('ollama/: /api/generate with LiteLLM\'s prompt, streamed and not', async () => {
  ollama.next.push({ text: 'Four.' });
  const body = { model: 'og', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: '2+2?' }], max_tokens: 5 };
  const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body });
  assert.equal(r.status, 200, r.text);
  const sent = ollama.requests.at(-1)!;
  assert.equal(sent.path, '/api/generate');
  assert.equal(sent.json.prompt, '### System:\nBe brief.\n\n### User:\n2+2?\n\n');
  assert.deepEqual(sent.json.options, { num_predict: 5 });
  assert.equal(r.json.choices[0].message.content, 'Four.');
  assert.deepEqual(r.json.usage, { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
  ollama.next.push({ text: 'Four, streamed.', chunkBytes: 3 });
  const s = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { ...body, stream: true } });
  const text = parseSse(s.text).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data).choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'Four, streamed.');
});

test('an Ollama error (a model not pulled) reaches the client as the upstream\'s error', async () => {
  const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat('o-missing') });
  assert.equal(r.status, 404, r.text);
  assert.match(r.json.error.message, /not-pulled/);
});

test('deployments that cannot be called start unavailable, the reason on the start line and in the 503', async () => {
  const models = gw.output().split('\n').find((l) => l.includes('info models: '))!;
  assert.match(models, /placeholder → azure\/gpt-4o \[unavailable: litellm_params\.api_base is a placeholder/);
  assert.match(models, /unset → openai\/gpt-4o \[unavailable: litellm_params\.api_key: environment variable WEIR_COMPAT_UNSET_KEY is not set\]/);
  assert.match(models, /az-env → azure\/gpt-4o-prod \[unavailable: AZURE_API_BASE is not an http:\/\/ or https:\/\/ URL \("my-resource\.openai\.azure\.com"\)\]/);
  assert.match(models, /co → cohere_chat\/command-r \[unavailable: provider cohere_chat is not served/);
  assert.ok(!models.includes('az-k'), 'no key on the start line');
  for (const [name, reason] of [['placeholder', /placeholder/], ['unset', /WEIR_COMPAT_UNSET_KEY/], ['az-env', /AZURE_API_BASE/]] as const) {
    const r = await call(gw.url, '/v1/chat/completions', { headers: AUTH, body: chat(name) });
    assert.equal(r.status, 503, r.text);
    assert.match(r.json.error.message, reason);
  }
});
