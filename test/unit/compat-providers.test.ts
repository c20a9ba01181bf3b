// The OpenAI-compatible providers as LiteLLM serves them (src/providers/compat-table.ts): each
// prefix's default URL, the variable its key and base are read from and the auth header they
// become; bare names inferred as LiteLLM's get_llm_provider does; the parameters a provider
// refuses, refused or dropped as LiteLLM does; and the deployments that start unavailable
// (placeholders, unset variables, a *_API_BASE that is not a URL) rather than stopping the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/load';
import { buildSnapshot } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import { GatewayError } from '../../src/gateway/errors';
import { applyParamRules } from '../../src/gateway/param-rules';
import type { Snapshot, Target } from '../../src/gateway/snapshot';
import { OPENAI_COMPATIBLE } from '../../src/providers/compat-table';
import { providerTarget, splitModel } from '../../src/providers/registry';

function build(yaml: string, env: NodeJS.ProcessEnv = {}): Snapshot {
  return buildSnapshot(parseConfigText(yaml, { baseDir: __dirname, env }), { version: 1, detailedDebug: false, env, slots: new SlotTable(4096) });
}

function one(params: string, env: NodeJS.ProcessEnv = {}, settings = ''): Target {
  const s = build(`model_list:\n  - model_name: m\n    litellm_params:\n${params.replace(/^/gm, '      ')}\n${settings}`, env);
  return s.groups.get('m')!.targets[0]!;
}

const pairs = (h: string[]): [string, string][] => Array.from({ length: h.length / 2 }, (_, i) => [h[2 * i]!, h[2 * i + 1]!]);

// What LiteLLM sends for each prefix of the issue, written out (not derived from the table):
// [model, key variable, origin, path, auth header].
const KEY = 'sk-test-KEY-1234';
const EXPECTED: [string, string, string, string][] = [
  ['nvidia_nim/meta/llama-3.1-8b-instruct', 'NVIDIA_NIM_API_KEY', 'https://integrate.api.nvidia.com', '/v1/chat/completions'],
  ['openrouter/anthropic/claude-3.5-sonnet', 'OPENROUTER_API_KEY', 'https://openrouter.ai', '/api/v1/chat/completions'],
  ['together_ai/meta-llama/Llama-3-70b', 'TOGETHERAI_API_KEY', 'https://api.together.xyz', '/v1/chat/completions'],
  ['fireworks_ai/accounts/fireworks/models/llama-v3-70b', 'FIREWORKS_AI_API_KEY', 'https://api.fireworks.ai', '/inference/v1/chat/completions'],
  ['mistral/mistral-large-latest', 'MISTRAL_API_KEY', 'https://api.mistral.ai', '/v1/chat/completions'],
  ['sambanova/Meta-Llama-3.1-8B-Instruct', 'SAMBANOVA_API_KEY', 'https://api.sambanova.ai', '/v1/chat/completions'],
  ['nebius/Qwen/Qwen3-235B', 'NEBIUS_API_KEY', 'https://api.studio.nebius.ai', '/v1/chat/completions'],
  ['novita/deepseek/deepseek-r1', 'NOVITA_API_KEY', 'https://api.novita.ai', '/v3/openai/chat/completions'],
  ['moonshot/kimi-k2', 'MOONSHOT_API_KEY', 'https://api.moonshot.ai', '/v1/chat/completions'],
  ['zai/glm-4.6', 'ZAI_API_KEY', 'https://api.z.ai', '/api/paas/v4/chat/completions'],
  ['volcengine/doubao-pro', 'VOLCENGINE_API_KEY', 'https://ark.cn-beijing.volces.com', '/api/v3/chat/completions'],
  ['baseten/deepseek-ai/DeepSeek-V3', 'BASETEN_API_KEY', 'https://inference.baseten.co', '/v1/chat/completions'],
  ['github/gpt-4o', 'GITHUB_API_KEY', 'https://models.inference.ai.azure.com', '/chat/completions'],
  ['meta_llama/Llama-4-Maverick', 'LLAMA_API_KEY', 'https://api.llama.com', '/compat/v1/chat/completions'],
  ['cerebras/llama3.1-8b', 'CEREBRAS_API_KEY', 'https://api.cerebras.ai', '/v1/chat/completions'],
  ['deepinfra/meta-llama/Llama-3-70b', 'DEEPINFRA_API_KEY', 'https://api.deepinfra.com', '/v1/openai/chat/completions'],
  ['perplexity/sonar-pro', 'PERPLEXITYAI_API_KEY', 'https://api.perplexity.ai', '/chat/completions'],
  ['xai/grok-4', 'XAI_API_KEY', 'https://api.x.ai', '/v1/chat/completions'],
  ['groq/llama-3.3-70b-versatile', 'GROQ_API_KEY', 'https://api.groq.com', '/openai/v1/chat/completions'],
  ['deepseek/deepseek-chat', 'DEEPSEEK_API_KEY', 'https://api.deepseek.com', '/beta/chat/completions'],
  ['huggingface/meta-llama/Llama-3.3-70B-Instruct', 'HF_TOKEN', 'https://router.huggingface.co', '/v1/chat/completions'],
];

test('each prefix LiteLLM serves over the OpenAI API: its default URL, and its key variable as a bearer token', () => {
  for (const [model, keyVar, origin, path] of EXPECTED) {
    const t = one(`model: ${model}`, { [keyVar]: KEY });
    assert.equal(t.unavailable, null, model);
    assert.equal(t.dialect, 'openai', model);
    assert.equal(t.provider, model.slice(0, model.indexOf('/')), model);
    assert.equal(t.origin, origin, model);
    assert.equal(t.path, path, model);
    assert.deepEqual(pairs(t.headers), [['authorization', `Bearer ${KEY}`]], model);
    assert.deepEqual(t.secrets, [KEY], model);
    // Without the key: unavailable, the reason naming the variable (and never a key).
    const off = one(`model: ${model}`);
    assert.match(off.unavailable ?? '', new RegExp(keyVar), model);
  }
});

test('every prefix of the table resolves: its base variable (or its default) and its first key variable', () => {
  for (const [prefix, p] of Object.entries(OPENAI_COMPATIBLE)) {
    const env: NodeJS.ProcessEnv = {};
    if (p.keyEnv[0]) env[p.keyEnv[0]] = KEY;
    const base = p.baseEnv[0] && !p.base ? (env[p.baseEnv[0]] = `https://${prefix.replace(/_/g, '-')}.example.com/v1`) : p.base;
    const t = providerTarget({ provider: prefix, upstreamModel: 'some-model', env });
    if (!base) {
      assert.match(t.unavailable ?? '', /api_base/, prefix);
      continue;
    }
    assert.equal(t.unavailable, null, `${prefix}: ${t.unavailable}`);
    assert.equal(t.origin, new URL(base).origin, prefix);
    assert.ok(t.path.includes('/chat/completions'), `${prefix}: ${t.path}`);
    if (p.keyEnv[0]) assert.ok(t.headers.some((h) => h.endsWith(KEY)), `${prefix}: ${t.headers.join(' ')}`);
  }
});

test('a base variable and the other key variables LiteLLM reads are honoured, in its order', () => {
  const t = one('model: together_ai/m', { TOGETHER_API_KEY: 'first', TOGETHERAI_API_KEY: 'later', TOGETHER_AI_API_BASE: 'http://127.0.0.1:9/v1' });
  assert.deepEqual(pairs(t.headers), [['authorization', 'Bearer first']]);
  assert.equal(t.origin, 'http://127.0.0.1:9');
  assert.equal(t.path, '/v1/chat/completions');
  const o = one('model: openrouter/x', { OR_API_KEY: 'or-key', OR_API_BASE: 'http://127.0.0.1:9/api/v1' });
  assert.deepEqual(pairs(o.headers), [['authorization', 'Bearer or-key']]);
  assert.equal(o.path, '/api/v1/chat/completions');
  // litellm_params win over the environment.
  const p = one('model: groq/x\napi_key: mine\napi_base: http://127.0.0.1:9/groq', { GROQ_API_KEY: 'env', GROQ_API_BASE: 'http://elsewhere:1' });
  assert.deepEqual(pairs(p.headers), [['authorization', 'Bearer mine']]);
  assert.equal(p.path, '/groq/chat/completions');
});

test('local servers need no key; their defaults are LiteLLM\'s', () => {
  const cases: [string, string, string][] = [
    ['lm_studio/qwen', 'http://localhost:1234', '/v1/chat/completions'],
    ['llamafile/mistral', 'http://127.0.0.1:8080', '/v1/chat/completions'],
    ['xinference/qwen', 'http://127.0.0.1:9997', '/v1/chat/completions'],
    ['docker_model_runner/ai/llama3.2', 'http://localhost:22088', '/engines/llama.cpp/v1/chat/completions'],
    ['ollama_chat/llama3.1', 'http://localhost:11434', '/api/chat'],
    ['ollama/llama3.1', 'http://localhost:11434', '/api/generate'],
  ];
  for (const [model, origin, path] of cases) {
    const t = one(`model: ${model}`);
    assert.equal(t.unavailable, null, model);
    assert.equal(t.origin, origin, model);
    assert.equal(t.path, path, model);
    assert.deepEqual(t.headers, [], model);
  }
  const o = one('model: ollama_chat/llama3.1', { OLLAMA_API_BASE: 'https://ollama.com', OLLAMA_API_KEY: 'ok-key' });
  assert.equal(o.origin, 'https://ollama.com');
  assert.deepEqual(pairs(o.headers), [['authorization', 'Bearer ok-key']]);
  assert.deepEqual(o.wire, { kind: 'ollama', api: 'chat', path: '/api/chat' });
  assert.deepEqual(one('model: ollama/x').wire, { kind: 'ollama', api: 'generate', path: '/api/generate' });
});

test('databricks and azure_ai need a base; azure_ai sends api-key on Azure hosts, /models on services.ai.azure.com', () => {
  assert.match(one('model: databricks/dbrx', { DATABRICKS_API_KEY: KEY }).unavailable ?? '', /DATABRICKS_API_BASE/);
  const d = one('model: databricks/dbrx', { DATABRICKS_API_KEY: KEY, DATABRICKS_API_BASE: 'https://adb-1.azuredatabricks.net/serving-endpoints' });
  assert.equal(d.path, '/serving-endpoints/chat/completions');
  assert.deepEqual(pairs(d.headers), [['authorization', `Bearer ${KEY}`]]);

  const a = one('model: azure_ai/mistral-large\napi_version: 2024-05-01-preview', { AZURE_AI_API_KEY: KEY, AZURE_AI_API_BASE: 'https://res.services.ai.azure.com' });
  assert.equal(a.origin, 'https://res.services.ai.azure.com');
  assert.equal(a.path, '/models/chat/completions?api-version=2024-05-01-preview');
  assert.deepEqual(pairs(a.headers), [['api-key', KEY]]);
  const s = one('model: azure_ai/llama', { AZURE_AI_API_KEY: KEY, AZURE_AI_API_BASE: 'https://llama-serverless.eastus2.inference.ai.azure.com/v1' });
  assert.equal(s.path, '/v1/chat/completions');
  assert.deepEqual(pairs(s.headers), [['authorization', `Bearer ${KEY}`]]);
});

test('huggingface: an inference provider in the name goes to the router as a :provider suffix; an api_base gets /v1/chat/completions', () => {
  const t = one('model: huggingface/together/deepseek-ai/DeepSeek-R1', { HF_TOKEN: KEY });
  assert.equal(t.upstreamModel, 'deepseek-ai/DeepSeek-R1:together');
  assert.equal(t.path, '/v1/chat/completions');
  const e = one('model: huggingface/tgi\napi_base: https://my-endpoint.endpoints.huggingface.cloud', { HF_TOKEN: KEY });
  assert.equal(e.path, '/v1/chat/completions');
  assert.equal(e.upstreamModel, 'tgi');
});

test('baseten: a dedicated deployment\'s 8-character id goes to its own host, other names to Model APIs', () => {
  const d = one('model: baseten/abcd1234', { BASETEN_API_KEY: KEY });
  assert.equal(d.origin, 'https://model-abcd1234.api.baseten.co');
  assert.equal(d.path, '/environments/production/sync/v1/chat/completions');
  assert.deepEqual(pairs(d.headers), [['authorization', `Bearer ${KEY}`]]);
  const m = one('model: baseten/deepseek-ai/DeepSeek-V3', { BASETEN_API_KEY: KEY });
  assert.equal(m.origin, 'https://inference.baseten.co');
});

test('bare names get the provider LiteLLM infers for them', () => {
  const cases: [string, string][] = [
    ['whisper-1', 'openai'],
    ['gpt-5', 'openai'],
    ['gpt-4o-mini', 'openai'],
    ['o4-mini', 'openai'],
    ['text-embedding-3-small', 'openai'],
    ['ft:gpt-4o-mini:org::abc', 'openai'],
    ['gpt-3.5-turbo-instruct', 'text-completion-openai'],
    ['claude-sonnet-4-5', 'anthropic'],
    ['claude-instant-1.2', 'anthropic_text'],
    ['gemini-2.5-pro', 'vertex_ai'],
    ['gemini-1.5-flash-002', 'vertex_ai'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'bedrock'],
    ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'bedrock'],
    ['command-r-plus', 'cohere_chat'],
    ['llama-3-70b', ''],
  ];
  for (const [name, provider] of cases) assert.deepEqual(splitModel(name), { provider, upstreamModel: name }, name);
  // A prefix LiteLLM knows is a provider; anything else before a slash is part of an unknown name.
  assert.deepEqual(splitModel('ollama_chat/llama3:8b'), { provider: 'ollama_chat', upstreamModel: 'llama3:8b' });
  assert.deepEqual(splitModel('nano-gpt/x/y'), { provider: 'nano-gpt', upstreamModel: 'x/y' });
  assert.deepEqual(splitModel('meta-llama/Llama-3'), { provider: 'meta-llama', upstreamModel: 'meta-llama/Llama-3' });
});

test('unserved providers load, unavailable with the reason (cohere_chat: its v2 chat API is not translated)', () => {
  const s = build(`model_list:
  - {model_name: c, litellm_params: {model: cohere_chat/command-r}}
  - {model_name: t, litellm_params: {model: gpt-3.5-turbo-instruct}}
  - {model_name: r, litellm_params: {model: replicate/meta/llama}}
  - {model_name: g, litellm_params: {model: gemini-2.5-pro}}
  - {model_name: x, litellm_params: {model: nosuchprovider/m}}
`);
  const why = (n: string) => s.groups.get(n)!.targets[0]!.unavailable ?? '';
  assert.match(why('c'), /cohere_chat is not served: Cohere's v2 chat API is not OpenAI-shaped/);
  assert.match(why('t'), /legacy \/v1\/completions/);
  assert.match(why('r'), /replicate is not served/);
  // A bare gemini-* name is LiteLLM's vertex_ai, which needs its project.
  assert.match(why('g'), /vertex_ai deployments need a project/);
  assert.match(why('x'), /nosuchprovider is not supported/);
});

// ---- parameters ---------------------------------------------------------------------------------

const body = (o: object) => Buffer.from(JSON.stringify(o));

test('a parameter the provider does not take: refused (400, naming it) without drop_params, dropped with it', () => {
  const t = one('model: perplexity/sonar', { PERPLEXITYAI_API_KEY: KEY });
  assert.ok(t.paramRules);
  const b = body({ model: 'sonar', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }], temperature: 0.2 });
  assert.throws(
    () => applyParamRules(b, t.paramRules!, t.provider, t.upstreamModel, false),
    (e: unknown) => e instanceof GatewayError && e.status === 400 && /perplexity does not support parameters: \["tools"\], for model=sonar/.test(e.message) && /drop_params/.test(e.message),
  );
  // A body the gateway translated is its own: left out, never refused.
  assert.deepEqual(JSON.parse(applyParamRules(b, t.paramRules!, t.provider, t.upstreamModel, true).toString()), { model: 'sonar', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 });
  // drop_params, globally or on the deployment.
  for (const d of [one('model: perplexity/sonar', { PERPLEXITYAI_API_KEY: KEY }, 'litellm_settings: {drop_params: true}'), one('model: perplexity/sonar\ndrop_params: true', { PERPLEXITYAI_API_KEY: KEY })]) {
    assert.deepEqual(d.paramRules!.refuse, []);
    const out = JSON.parse(applyParamRules(b, d.paramRules!, d.provider, d.upstreamModel, false).toString());
    assert.deepEqual(Object.keys(out), ['model', 'messages', 'temperature']);
  }
  // A client's own `"drop_params": true` drops them for its call; the member itself is never sent.
  const asked = JSON.parse(applyParamRules(body({ model: 'sonar', tools: [], drop_params: true }), t.paramRules!, t.provider, t.upstreamModel, false).toString());
  assert.deepEqual(asked, { model: 'sonar' });
  assert.throws(() => applyParamRules(body({ model: 'sonar', tools: [], drop_params: false }), t.paramRules!, t.provider, t.upstreamModel, false), GatewayError);
  // What it takes passes untouched: the same bytes.
  const ok = body({ model: 'sonar', messages: [], temperature: 1, stream: true, stream_options: { include_usage: true } });
  assert.equal(applyParamRules(ok, t.paramRules!, t.provider, t.upstreamModel, false), ok);
});

test('renames (max_completion_tokens → max_tokens), additional_drop_params, and providers without quirks', () => {
  const c = one('model: cerebras/llama3.1-8b', { CEREBRAS_API_KEY: KEY });
  const out = JSON.parse(applyParamRules(body({ model: 'm', max_tokens: 5, max_completion_tokens: 100, messages: [] }), c.paramRules!, c.provider, c.upstreamModel, false).toString());
  assert.deepEqual(out, { model: 'm', max_tokens: 100, messages: [] });
  const g = one('model: groq/x\nadditional_drop_params: ["logit_bias", "user"]', { GROQ_API_KEY: KEY });
  assert.deepEqual(JSON.parse(applyParamRules(body({ model: 'x', user: 'u', logit_bias: {}, n: 1 }), g.paramRules!, g.provider, g.upstreamModel, false).toString()), { model: 'x', n: 1 });
  // openai and most of the table take every OpenAI parameter: no rules, no walk of the body.
  assert.equal(one('model: openai/gpt-4o', { OPENAI_API_KEY: KEY }).paramRules, null);
  assert.equal(one('model: groq/x', { GROQ_API_KEY: KEY }).paramRules, null);
  // Ollama: the parameters LiteLLM's Ollama configs list.
  const o = one('model: ollama_chat/llama3.1');
  assert.ok(o.paramRules!.refuse.includes('n') && o.paramRules!.refuse.includes('logprobs') && !o.paramRules!.refuse.includes('tools'));
  assert.ok(one('model: ollama/llama3.1').paramRules!.refuse.includes('tools'));
});

test('keys spelled with escapes are the same keys; a value holding a key name is not one', () => {
  const t = one('model: perplexity/sonar\ndrop_params: true', { PERPLEXITYAI_API_KEY: KEY });
  const raw = Buffer.from('{"model":"sonar","to\\u006fls":[],"messages":[{"role":"user","content":"\\"tools\\": 1"}]}');
  const out = JSON.parse(applyParamRules(raw, t.paramRules!, t.provider, t.upstreamModel, false).toString());
  assert.deepEqual(out, { model: 'sonar', messages: [{ role: 'user', content: '"tools": 1' }] });
});

// ---- starting like LiteLLM ----------------------------------------------------------------------

test('a placeholder api_base starts the deployment unavailable, with the reason', () => {
  const s = build(`model_list:
  - model_name: az
    litellm_params: {model: azure/gpt-4o, api_base: "https://<your-resource>.openai.azure.com/", api_key: k}
  - model_name: oa
    litellm_params: {model: openai/gpt-4o, api_base: "<your-azure-endpoint>", api_key: k}
`);
  assert.match(s.groups.get('az')!.targets[0]!.unavailable ?? '', /litellm_params\.api_base is a placeholder \("https:\/\/<your-resource>\.openai\.azure\.com\/"\)/);
  assert.match(s.groups.get('oa')!.targets[0]!.unavailable ?? '', /placeholder/);
});

test('an unset os.environ/ variable of a deployment: unavailable, naming the variable and where it is', () => {
  const s = build(`model_list:
  - model_name: a
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/WEIR_TEST_UNSET_KEY}
  - model_name: b
    litellm_params: {model: openai/gpt-4o, api_key: sk-set}
`);
  assert.equal(s.groups.get('a')!.targets[0]!.unavailable, 'litellm_params.api_key: environment variable WEIR_TEST_UNSET_KEY is not set');
  assert.equal(s.groups.get('b')!.targets[0]!.unavailable, null);
});

test('a *_API_BASE that is not a URL names the variable, not "Invalid URL"', () => {
  const az = one('model: azure/dep\napi_key: k', { AZURE_API_BASE: 'my-resource.openai.azure.com' });
  assert.equal(az.unavailable, 'AZURE_API_BASE is not an http:// or https:// URL ("my-resource.openai.azure.com")');
  const gq = one('model: groq/x', { GROQ_API_KEY: KEY, GROQ_API_BASE: 'nope' });
  assert.match(gq.unavailable ?? '', /^GROQ_API_BASE is not an http/);
  const an = one('model: anthropic/claude-sonnet-4-5', { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: 'ftp://x' });
  assert.match(an.unavailable ?? '', /^ANTHROPIC_BASE_URL is not an http/);
  // Through os.environ/ in the config: the variable is named too.
  const via = one('model: openai/x\napi_key: k\napi_base: os.environ/MY_BASE', { MY_BASE: 'not a url' });
  assert.match(via.unavailable ?? '', /litellm_params\.api_base \(from os\.environ\/MY_BASE\) is not an http/);
});
