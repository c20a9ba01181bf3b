// buildSnapshot + the provider registry: every deployment of a config resolved once into a Target
// (URL, headers, dialect, timeouts), the routing and auth settings with LiteLLM's precedence and
// defaults, and the pre-rendered /v1/models and /model/info bodies, which must carry no secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseConfigText } from '../../src/config/load';
import type { LiteLLMConfig } from '../../src/config/types';
import { buildSnapshot, DEFAULT_MAX_BODY_MB } from '../../src/control/build-snapshot';
import { SlotTable } from '../../src/control/slots';
import type { Snapshot, Target } from '../../src/gateway/snapshot';
import { splitModel, providerTarget } from '../../src/providers/registry';
import { AZURE_DEFAULT_API_VERSION } from '../../src/providers/azure';

const ENV_SECRETS = {
  OPENAI_API_KEY: 'sk-openai-SECRET-0001',
  ANTHROPIC_API_KEY: 'sk-ant-SECRET-0002',
  AZURE_API_KEY: 'azure-SECRET-0003',
  OPENROUTER_API_KEY: 'sk-or-SECRET-0004',
  GROQ_API_KEY: 'gsk-SECRET-0005',
  DEEPSEEK_API_KEY: 'sk-ds-SECRET-0006',
  MY_VLLM_KEY: 'vllm-SECRET-0007',
  MY_HEADER_TOKEN: 'hdr-SECRET-0008',
  AWS_SECRET: 'aws-SECRET-0009',
};

function parse(yaml: string, env: NodeJS.ProcessEnv = {}): LiteLLMConfig {
  return parseConfigText(yaml, { baseDir: __dirname, env });
}

function build(yaml: string, env: NodeJS.ProcessEnv = {}, slots = new SlotTable(4096), version = 1): Snapshot {
  return buildSnapshot(parse(yaml, env), { version, detailedDebug: false, env, slots });
}

/** The only target of a one-deployment config. */
function one(litellmParams: string, env: NodeJS.ProcessEnv = {}, extra = ''): Target {
  const s = build(`model_list:\n  - model_name: m\n    litellm_params:\n${litellmParams.replace(/^/gm, '      ')}\n${extra}`, env);
  const g = s.groups.get('m');
  assert.ok(g);
  assert.equal(g.targets.length, 1);
  return g.targets[0]!;
}

/** Header pairs as a list of [name, value]. */
const pairs = (h: string[]): [string, string][] => Array.from({ length: h.length / 2 }, (_, i) => [h[2 * i]!, h[2 * i + 1]!]);

// ---- providers -----------------------------------------------------------------------------------

test('openai: default base with OPENAI_API_KEY from the environment', () => {
  const t = one('model: openai/gpt-4o', { OPENAI_API_KEY: 'sk-env' });
  assert.equal(t.unavailable, null);
  assert.equal(t.provider, 'openai');
  assert.equal(t.dialect, 'openai');
  assert.equal(t.upstreamModel, 'gpt-4o');
  assert.equal(t.upstreamModelJson, '"gpt-4o"');
  assert.equal(t.origin, 'https://api.openai.com');
  assert.equal(t.path, '/v1/chat/completions');
  assert.equal(t.apiBase, 'https://api.openai.com/v1');
  assert.deepEqual(pairs(t.headers), [['authorization', 'Bearer sk-env']]);
  assert.deepEqual(t.secrets, ['sk-env']);
  assert.equal(t.group, 'm');
});

test('openai: without a key it is unavailable, and the reason names OPENAI_API_KEY', () => {
  const t = one('model: openai/gpt-4o');
  assert.ok(t.unavailable);
  assert.match(t.unavailable, /OPENAI_API_KEY/);
  assert.equal(t.origin, '');
  assert.deepEqual(t.headers, []);
});

test('openai: litellm_params.api_key (from os.environ/) wins over the environment default', () => {
  const t = one('model: openai/gpt-4o\napi_key: os.environ/MY_KEY', { MY_KEY: 'sk-mine', OPENAI_API_KEY: 'sk-env' });
  assert.deepEqual(pairs(t.headers), [['authorization', 'Bearer sk-mine']]);
  assert.deepEqual(t.secrets, ['sk-mine']);
});

test('openai: OPENAI_API_BASE and an explicit api_base ending in /chat/completions', () => {
  const t = one('model: openai/gpt-4o', { OPENAI_API_KEY: 'k', OPENAI_API_BASE: 'http://localhost:9000/openai/' });
  assert.equal(t.origin, 'http://localhost:9000');
  assert.equal(t.path, '/openai/chat/completions');
  const t2 = one('model: openai/gpt-4o\napi_key: k\napi_base: https://gw.example.com/v1/chat/completions');
  assert.equal(t2.origin, 'https://gw.example.com');
  assert.equal(t2.path, '/v1/chat/completions');
});

test('hosted_vllm with api_base: no key needed, path <base>/chat/completions', () => {
  const t = one('model: hosted_vllm/Qwen/Qwen2.5-Coder-32B-Instruct\napi_base: http://vllm.internal:8000/v1');
  assert.equal(t.unavailable, null);
  assert.equal(t.provider, 'hosted_vllm');
  assert.equal(t.dialect, 'openai');
  assert.equal(t.upstreamModel, 'Qwen/Qwen2.5-Coder-32B-Instruct');
  assert.equal(t.origin, 'http://vllm.internal:8000');
  assert.equal(t.path, '/v1/chat/completions');
  assert.deepEqual(t.headers, []);
  assert.deepEqual(t.secrets, []);
  // With a key it is sent as Bearer.
  const k = one('model: hosted_vllm/q\napi_base: http://vllm:8000\napi_key: os.environ/MY_VLLM_KEY', ENV_SECRETS);
  assert.equal(k.path, '/chat/completions');
  assert.deepEqual(pairs(k.headers), [['authorization', `Bearer ${ENV_SECRETS.MY_VLLM_KEY}`]]);
  // Without any base it cannot be called.
  const none = one('model: hosted_vllm/q');
  assert.match(none.unavailable ?? '', /api_base/);
});

test('openrouter, groq and deepseek default bases (deepseek: the /beta base LiteLLM uses)', () => {
  const cases: [string, string, string, string][] = [
    ['openrouter/anthropic/claude-3.5-sonnet', 'https://openrouter.ai', '/api/v1/chat/completions', ENV_SECRETS.OPENROUTER_API_KEY],
    ['groq/llama-3.1-70b-versatile', 'https://api.groq.com', '/openai/v1/chat/completions', ENV_SECRETS.GROQ_API_KEY],
    ['deepseek/deepseek-chat', 'https://api.deepseek.com', '/beta/chat/completions', ENV_SECRETS.DEEPSEEK_API_KEY],
  ];
  for (const [model, origin, path, key] of cases) {
    const t = one(`model: ${model}`, ENV_SECRETS);
    assert.equal(t.unavailable, null, model);
    assert.equal(t.provider, model.split('/')[0]);
    assert.equal(t.upstreamModel, model.slice(model.indexOf('/') + 1));
    assert.equal(t.origin, origin, model);
    assert.equal(t.path, path, model);
    assert.deepEqual(pairs(t.headers), [['authorization', `Bearer ${key}`]]);
    // And unavailable without their key, naming the variable.
    const u = one(`model: ${model}`);
    assert.match(u.unavailable ?? '', new RegExp(`${model.split('/')[0]!.toUpperCase()}_API_KEY`));
  }
});

test('azure: deployment path, api-version, api-key header', () => {
  const t = one('model: azure/gpt-4o-prod\napi_base: https://my.openai.azure.com/\napi_key: az-key\napi_version: 2024-08-01-preview');
  assert.equal(t.unavailable, null);
  assert.equal(t.provider, 'azure');
  assert.equal(t.dialect, 'openai');
  assert.equal(t.upstreamModel, 'gpt-4o-prod');
  assert.equal(t.origin, 'https://my.openai.azure.com');
  assert.equal(t.path, '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-08-01-preview');
  assert.deepEqual(pairs(t.headers), [['api-key', 'az-key']]);
  assert.deepEqual(t.secrets, ['az-key']);
});

test('azure: AZURE_API_VERSION, then the built-in default; AZURE_API_BASE / AZURE_API_KEY from env', () => {
  const env = { AZURE_API_BASE: 'https://env.openai.azure.com', AZURE_API_KEY: 'env-az', AZURE_API_VERSION: '2025-01-01-preview' };
  const t = one('model: azure/dep', env);
  assert.equal(t.origin, 'https://env.openai.azure.com');
  assert.equal(t.path, '/openai/deployments/dep/chat/completions?api-version=2025-01-01-preview');
  assert.deepEqual(pairs(t.headers), [['api-key', 'env-az']]);
  const d = one('model: azure/dep\napi_base: https://x.openai.azure.com\napi_key: k');
  assert.equal(d.path, `/openai/deployments/dep/chat/completions?api-version=${AZURE_DEFAULT_API_VERSION}`);
  // Unquoted YAML dates stay strings.
  const y = one('model: azure/dep\napi_base: https://x.openai.azure.com\napi_key: k\napi_version: 2024-10-21');
  assert.match(y.path, /\?api-version=2024-10-21$/);
  // Missing base or key: unavailable with a reason.
  assert.match(one('model: azure/dep\napi_key: k').unavailable ?? '', /api_base/);
  assert.match(one('model: azure/dep\napi_base: https://x.openai.azure.com').unavailable ?? '', /AZURE_API_KEY/);
});

test('anthropic: /v1/messages appended unless present, x-api-key', () => {
  const t = one('model: anthropic/claude-sonnet-4-5', { ANTHROPIC_API_KEY: 'sk-ant' });
  assert.equal(t.unavailable, null);
  assert.equal(t.provider, 'anthropic');
  assert.equal(t.dialect, 'anthropic');
  assert.equal(t.upstreamModel, 'claude-sonnet-4-5');
  assert.equal(t.origin, 'https://api.anthropic.com');
  assert.equal(t.path, '/v1/messages');
  assert.deepEqual(pairs(t.headers), [['x-api-key', 'sk-ant']]);
  const p = one('model: anthropic/claude-sonnet-4-5\napi_key: k\napi_base: https://proxy.example.com/anthropic/');
  assert.equal(p.origin, 'https://proxy.example.com');
  assert.equal(p.path, '/anthropic/v1/messages');
  const full = one('model: anthropic/claude-sonnet-4-5\napi_key: k\napi_base: https://proxy.example.com/x/v1/messages');
  assert.equal(full.path, '/x/v1/messages');
  assert.match(one('model: anthropic/claude-sonnet-4-5').unavailable ?? '', /ANTHROPIC_API_KEY/);
});

test('mock speaks any dialect and needs nothing', () => {
  const t = one('model: mock/echo');
  assert.equal(t.unavailable, null);
  assert.equal(t.provider, 'mock');
  assert.equal(t.dialect, 'any');
  assert.equal(t.upstreamModel, 'echo');
  assert.equal(t.origin, '');
  assert.deepEqual(t.headers, []);
});

test('bare model names: gpt-* → openai, claude-* → anthropic; bedrock/ without a region unavailable, with one an anthropic-dialect wire; unknown bare names unavailable', () => {
  const g = one('model: gpt-4o', { OPENAI_API_KEY: 'k' });
  assert.equal(g.provider, 'openai');
  assert.equal(g.upstreamModel, 'gpt-4o');
  assert.equal(g.path, '/v1/chat/completions');
  const c = one('model: claude-3-5-sonnet-20241022', { ANTHROPIC_API_KEY: 'k' });
  assert.equal(c.provider, 'anthropic');
  assert.equal(c.upstreamModel, 'claude-3-5-sonnet-20241022');
  assert.equal(c.dialect, 'anthropic');
  const b = one('model: bedrock/anthropic.claude-3-sonnet-20240229-v1:0');
  assert.equal(b.provider, 'bedrock');
  assert.match(b.unavailable ?? '', /needs a region/);
  const br = one('model: bedrock/anthropic.claude-3-sonnet-20240229-v1:0\naws_region_name: eu-west-1');
  assert.equal(br.unavailable, null);
  assert.equal(br.dialect, 'anthropic');
  assert.equal(br.origin, 'https://bedrock-runtime.eu-west-1.amazonaws.com');
  assert.equal(br.path, '/model/anthropic.claude-3-sonnet-20240229-v1%3A0/invoke');
  assert.equal(br.wire?.kind, 'bedrock');
  const u = one('model: mystery-model');
  assert.match(u.unavailable ?? '', /cannot tell the provider/);
  assert.deepEqual(splitModel('o3-mini'), { provider: 'openai', upstreamModel: 'o3-mini' });
  assert.deepEqual(splitModel('openai/gpt-4o/with/slashes'), { provider: 'openai', upstreamModel: 'gpt-4o/with/slashes' });
  assert.deepEqual(splitModel('vertex_ai/gemini-1.5-pro'), { provider: 'vertex_ai', upstreamModel: 'gemini-1.5-pro' });
  assert.match(providerTarget({ provider: 'vertex_ai', upstreamModel: 'g', env: {} }).unavailable ?? '', /vertex_ai deployments need a project/);
});

test('extra_headers are lower-cased and appended after the auth header', () => {
  const t = one('model: openai/gpt-4o\napi_key: k\nextra_headers:\n  X-Trace: 1\n  OpenAI-Organization: org-1\n  x-token: os.environ/MY_HEADER_TOKEN', ENV_SECRETS);
  assert.deepEqual(pairs(t.headers), [
    ['authorization', 'Bearer k'],
    ['x-trace', '1'],
    ['openai-organization', 'org-1'],
    ['x-token', ENV_SECRETS.MY_HEADER_TOKEN],
  ]);
  const m = one('model: mock/x\nextra_headers:\n  A: b');
  assert.deepEqual(pairs(m.headers), [['a', 'b']]);
});

test('an extra_header naming the auth header replaces it instead of sending both', () => {
  const t = one('model: openai/gpt-4o\napi_key: k\nextra_headers:\n  Authorization: Bearer gateway-token');
  const auth = pairs(t.headers).filter(([n]) => n === 'authorization');
  assert.deepEqual(auth, [['authorization', 'Bearer gateway-token']]);
});

test('an api_base that is not a URL starts unavailable, naming it, as LiteLLM starts and fails its calls', () => {
  const t = one('model: hosted_vllm/q\napi_base: "not a url"');
  assert.equal(t.unavailable, 'litellm_params.api_base is not an http:// or https:// URL ("not a url")');
  // LiteLLM's docs write these in place of a URL (docs/proxy/configs.md): the proxy still starts.
  const s = build(`model_list:
  - model_name: mistral-7b
    litellm_params: {model: ollama/mistral, api_base: your_ollama_api_base}
  - model_name: gpt-4
    litellm_params: {model: azure/gpt-4, api_key: k, api_base: your-azure-api-base}
  - model_name: ok
    litellm_params: {model: mock/x}`);
  assert.match(s.groups.get('mistral-7b')!.targets[0]!.unavailable ?? '', /^litellm_params\.api_base is not an http:\/\/ or https:\/\/ URL \("your_ollama_api_base"\)/);
  assert.match(s.groups.get('gpt-4')!.targets[0]!.unavailable ?? '', /^litellm_params\.api_base is not an http:\/\/ or https:\/\/ URL \("your-azure-api-base"\)/);
  assert.equal(s.groups.get('ok')!.targets[0]!.unavailable, null);
  // Credentials in such a value are masked in the reason.
  const f = one('model: openai/x\napi_base: "ftp://user:pa55word@h/v1?api-key=qk-secret-1"');
  assert.equal(f.unavailable, 'litellm_params.api_base is not an http:// or https:// URL ("ftp://****:****@h/v1?api-key=****")');
});

test('a provider Weir does not serve is named before the variables it lacks: setting them would not help', () => {
  // As in LiteLLM's docs (docs/providers/bfl.md): the start line told the user to set BFL_API_KEY.
  const t = one('model: bfl/flux-pro-1.1\napi_key: os.environ/BFL_API_KEY');
  assert.equal(t.unavailable, 'provider bfl is not supported by Weir yet; also litellm_params.api_key: environment variable BFL_API_KEY is not set');
  const u = one('model: cohere_chat/command-r\napi_key: os.environ/COHERE_API_KEY');
  assert.match(u.unavailable ?? '', /^provider cohere_chat is not served: .*; also litellm_params\.api_key: environment variable COHERE_API_KEY is not set$/);
  // A served provider: the variable alone is the reason, as before.
  assert.equal(one('model: openai/gpt-4o\napi_key: os.environ/MY_OPENAI_KEY').unavailable, 'litellm_params.api_key: environment variable MY_OPENAI_KEY is not set');
  assert.equal('notServed' in t, false, 'the marker stays out of the Target workers read');
});

test('an api_base without a scheme is not taken as a callable target', () => {
  const t = one('model: hosted_vllm/q\napi_base: localhost:8000/v1');
  assert.match(t.unavailable ?? '', /^litellm_params\.api_base is not an http:\/\/ or https:\/\/ URL/);
});

// ---- timeouts, retries, settings -----------------------------------------------------------------

test('timeouts: litellm_params.timeout > router_settings.timeout > litellm_settings.request_timeout > 600 s (LiteLLM Router’s 10 minutes)', () => {
  const dep = (lp: string) => `model_list:\n  - model_name: m\n    litellm_params:\n      model: mock/x\n${lp}`;
  const t = (yaml: string) => build(yaml).groups.get('m')!.targets[0]!;
  const all = `router_settings:\n  timeout: 300\nlitellm_settings:\n  request_timeout: 600\n`;
  assert.equal(t(dep('      timeout: 30\n') + all).timeoutMs, 30_000);
  assert.equal(t(dep('') + all).timeoutMs, 300_000);
  assert.equal(t(dep('') + 'litellm_settings:\n  request_timeout: 600\n').timeoutMs, 600_000);
  assert.equal(t(dep('')).timeoutMs, 600_000);
  assert.equal(t(dep('      timeout: 0.5\n')).timeoutMs, 500);
});

test('stream_timeout: litellm_params > router_settings > the timeout in effect', () => {
  const dep = (lp: string) => `model_list:\n  - model_name: m\n    litellm_params:\n      model: mock/x\n${lp}`;
  const t = (yaml: string) => build(yaml).groups.get('m')!.targets[0]!;
  assert.equal(t(dep('      timeout: 30\n      stream_timeout: 5\n') + 'router_settings:\n  stream_timeout: 9\n').streamTimeoutMs, 5_000);
  assert.equal(t(dep('      timeout: 30\n') + 'router_settings:\n  stream_timeout: 9\n').streamTimeoutMs, 9_000);
  assert.equal(t(dep('      timeout: 30\n')).streamTimeoutMs, 30_000);
  assert.equal(t(dep('') + 'router_settings:\n  timeout: 300\n').streamTimeoutMs, 300_000);
  assert.equal(t(dep('') + 'litellm_settings:\n  request_timeout: 42\n').streamTimeoutMs, 42_000);
  assert.equal(t(dep('')).streamTimeoutMs, 600_000);
});

test('num_retries: router_settings > litellm_settings > 2', () => {
  const base = 'model_list: []\n';
  assert.equal(build(base + 'router_settings:\n  num_retries: 5\nlitellm_settings:\n  num_retries: 3\n').routing.numRetries, 5);
  assert.equal(build(base + 'litellm_settings:\n  num_retries: 3\n').routing.numRetries, 3);
  assert.equal(build(base).routing.numRetries, 2);
  assert.equal(build(base + 'router_settings:\n  num_retries: 0\nlitellm_settings:\n  num_retries: 3\n').routing.numRetries, 0, '0 is a value, not unset');
});

test('routing defaults and overrides: allowed_fails, cooldown_time, disable_cooldowns, per-deployment cooldown and weights', () => {
  const d = build('model_list: []\n').routing;
  assert.deepEqual(d, { strategy: 'simple-shuffle', fallbacks: new Map(), defaultFallbacks: [], maxFallbacks: 5, contextWindowFallbacks: new Map(), contentPolicyFallbacks: new Map(), retryPolicy: {}, numRetries: 2, allowedFails: 3, cooldownMs: 5000, disableCooldowns: false });
  const r = build('model_list: []\nrouter_settings:\n  allowed_fails: 1\n  cooldown_time: 0.25\n  disable_cooldowns: true\n').routing;
  assert.deepEqual(r, { strategy: 'simple-shuffle', fallbacks: new Map(), defaultFallbacks: [], maxFallbacks: 5, contextWindowFallbacks: new Map(), contentPolicyFallbacks: new Map(), retryPolicy: {}, numRetries: 2, allowedFails: 1, cooldownMs: 250, disableCooldowns: true });
  const t = one('model: mock/x\ncooldown_time: 30\nweight: 3\nrpm: 100\ntpm: 5000\norder: 2');
  assert.equal(t.cooldownMs, 30_000);
  assert.equal(t.weight, 3);
  assert.equal(t.rpm, 100);
  assert.equal(t.tpm, 5000);
  assert.equal(t.order, 2);
  const plain = one('model: mock/x');
  assert.equal(plain.cooldownMs, null);
  assert.equal(plain.weight, 0);
  assert.equal(plain.rpm, 0);
  assert.equal(plain.tpm, 0);
  assert.equal(plain.order, Infinity);
});

test('master key: hashed from general_settings, else from LITELLM_MASTER_KEY, else none', () => {
  const sha = (k: string) => createHash('sha256').update(k).digest('hex');
  const hex = (s: Snapshot) => (s.auth.masterKeyHash ? Buffer.from(s.auth.masterKeyHash).toString('hex') : null);
  const cfgKey = build('model_list: []\ngeneral_settings:\n  master_key: sk-config\n', { LITELLM_MASTER_KEY: 'sk-env' });
  assert.equal(hex(cfgKey), sha('sk-config'));
  const viaRef = build('model_list: []\ngeneral_settings:\n  master_key: os.environ/MK\n', { MK: 'sk-ref' });
  assert.equal(hex(viaRef), sha('sk-ref'));
  const envKey = build('model_list: []\n', { LITELLM_MASTER_KEY: 'sk-env' });
  assert.equal(hex(envKey), sha('sk-env'));
  assert.equal(build('model_list: []\n').auth.masterKeyHash, null);
  // The raw key is nowhere in the snapshot.
  assert.ok(!JSON.stringify({ ...cfgKey, groups: [...cfgKey.groups] }).includes('sk-config'));
});

test('custom key header is lower-cased; max_request_size_mb → bytes', () => {
  const s = build('model_list: []\ngeneral_settings:\n  litellm_key_header_name: X-Litellm-Key\n  max_request_size_mb: 32\n');
  assert.equal(s.auth.customKeyHeader, 'x-litellm-key');
  assert.equal(s.maxBodyBytes, 32 * 1024 * 1024);
  assert.equal(build('model_list: []\ngeneral_settings:\n  max_request_size_mb: 0.5\n').maxBodyBytes, 512 * 1024);
  const d = build('model_list: []\n');
  assert.equal(d.maxBodyBytes, DEFAULT_MAX_BODY_MB * 1024 * 1024);
  assert.equal(d.auth.customKeyHeader, null);
  assert.equal(d.version, 1);
  assert.equal(build('model_list: []\n', {}, new SlotTable(8), 7).version, 7);
});

// ---- ids and slots -------------------------------------------------------------------------------

const TWO = `
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: k1}
    model_info: {id: my-id}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: k2}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: k3}
    model_info: {id: 17}
`;

test('model_info.id is kept (numbers as strings); otherwise a stable 64-hex id', () => {
  const s = build(TWO);
  const [a, b] = s.groups.get('gpt-4o')!.targets;
  assert.equal(a!.id, 'my-id');
  assert.match(b!.id, /^[0-9a-f]{64}$/);
  assert.equal(s.groups.get('claude')!.targets[0]!.id, '17');
  // Same config → same id, in a fresh build with fresh slots.
  assert.equal(build(TWO).groups.get('gpt-4o')!.targets[1]!.id, b!.id);
  // Different params → different id; so does a different model_name.
  assert.notEqual(build(TWO.replace('api_key: k2', 'api_key: k2b')).groups.get('gpt-4o')!.targets[1]!.id, b!.id);
  assert.notEqual(build(TWO.replace('api_key: k2}', 'api_key: k2, rpm: 5}')).groups.get('gpt-4o')!.targets[1]!.id, b!.id);
  const renamed = build(TWO.replace(/model_name: gpt-4o\n(\s+litellm_params: \{model: openai\/gpt-4o, api_key: k2\})/, 'model_name: gpt-4o-b\n$1'));
  assert.notEqual(renamed.groups.get('gpt-4o-b')!.targets[0]!.id, b!.id);
  // The id is a function of the params: identical deployments without ids get the same one.
  const twin = build('model_list:\n  - {model_name: x, litellm_params: {model: mock/a}}\n  - {model_name: x, litellm_params: {model: mock/a}}\n');
  const [t1, t2] = twin.groups.get('x')!.targets;
  assert.equal(t1!.id, t2!.id);
});

test('slots are stable across builds sharing a SlotTable, and new deployments get new slots', () => {
  const slots = new SlotTable(64);
  const s1 = build(TWO, {}, slots);
  const ids1 = [...s1.groups.values()].flatMap((g) => g.targets.map((t) => [t.id, t.slot] as const));
  assert.deepEqual(
    ids1.map(([, slot]) => slot),
    [0, 1, 2],
  );
  // Reordered and extended config: known ids keep their slots.
  const reordered = `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: k3}
    model_info: {id: 17}
  - model_name: new
    litellm_params: {model: mock/new}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: k1}
    model_info: {id: my-id}
`;
  const s2 = build(reordered, {}, slots, 2);
  const slotOf = (s: Snapshot, id: string) => [...s.groups.values()].flatMap((g) => g.targets).find((t) => t.id === id)!.slot;
  assert.equal(slotOf(s2, '17'), 2);
  assert.equal(slotOf(s2, 'my-id'), 0);
  assert.equal(s2.groups.get('new')!.targets[0]!.slot, 3);
  // The removed deployment comes back: same slot as before.
  const s3 = build(TWO, {}, slots, 3);
  assert.deepEqual(
    [...s3.groups.values()].flatMap((g) => g.targets.map((t) => t.slot)),
    [0, 1, 2],
  );
  // Two deployments sharing an id share a slot.
  const twin = build('model_list:\n  - {model_name: x, litellm_params: {model: mock/a}}\n  - {model_name: x, litellm_params: {model: mock/a}}\n', {}, new SlotTable(4));
  const [t1, t2] = twin.groups.get('x')!.targets;
  assert.equal(t1!.slot, t2!.slot);
  // A full table refuses clearly.
  assert.throws(() => build(TWO, {}, new SlotTable(2)), /more than 2 deployments at once/);
});

// ---- groups --------------------------------------------------------------------------------------

test('groups collect deployments by model_name; chat/messages targets by dialect', () => {
  const s = build(
    `
model_list:
  - model_name: mixed
    litellm_params: {model: openai/gpt-4o, api_key: k}
  - model_name: mixed
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: k}
  - model_name: mixed
    litellm_params: {model: mock/echo}
  - model_name: mixed
    litellm_params: {model: azure/dep, api_base: "https://a.openai.azure.com", api_key: k}
  - model_name: only-claude
    litellm_params: {model: claude-3-haiku-20240307, api_key: k}
  - model_name: unavailable
    litellm_params: {model: bedrock/x}
`,
  );
  assert.deepEqual([...s.groups.keys()], ['mixed', 'only-claude', 'unavailable']);
  const mixed = s.groups.get('mixed')!;
  assert.equal(mixed.name, 'mixed');
  assert.deepEqual(
    mixed.targets.map((t) => t.provider),
    ['openai', 'anthropic', 'mock', 'azure'],
  );
  assert.deepEqual(
    mixed.chatTargets.map((t) => t.provider),
    ['openai', 'mock', 'azure'],
  );
  assert.deepEqual(
    mixed.messagesTargets.map((t) => t.provider),
    ['anthropic', 'mock'],
  );
  // The lists hold the same Target objects (pick's `tried` compares identity).
  assert.equal(mixed.chatTargets[0], mixed.targets[0]);
  assert.equal(mixed.messagesTargets[1], mixed.targets[2]);
  const oc = s.groups.get('only-claude')!;
  assert.equal(oc.chatTargets.length, 0);
  assert.equal(oc.messagesTargets.length, 1);
  assert.ok(s.groups.get('unavailable')!.targets[0]!.unavailable);
  assert.equal(build('model_list: []\n').groups.size, 0);
});

// ---- /v1/models and /model/info ------------------------------------------------------------------

const SECRET_CONFIG = `
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      extra_headers:
        X-Token: os.environ/MY_HEADER_TOKEN
        Authorization: Bearer literal-header-SECRET-0010
    model_info:
      id: openai-1
      mode: chat
      base_model: gpt-4o
  - model_name: gpt-4o
    litellm_params:
      model: azure/gpt-4o-prod
      api_base: https://x.openai.azure.com
      api_key: os.environ/AZURE_API_KEY
      api_version: "2024-10-21"
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_key: literal-anthropic-SECRET-0011
  - model_name: vllm
    litellm_params:
      model: hosted_vllm/q
      api_base: http://vllm:8000/v1
      api_key: os.environ/MY_VLLM_KEY
  - model_name: bedrock
    litellm_params:
      model: bedrock/anthropic.claude-v2
      aws_access_key_id: literal-akid-SECRET-0012
      aws_secret_access_key: os.environ/AWS_SECRET
      aws_session_token: literal-session-SECRET-0013
  - model_name: mock
    litellm_params:
      model: mock/echo
general_settings:
  master_key: literal-master-SECRET-0014
`;

const ALL_SECRETS = [
  ...Object.values(ENV_SECRETS),
  'literal-header-SECRET-0010',
  'literal-anthropic-SECRET-0011',
  'literal-akid-SECRET-0012',
  'literal-session-SECRET-0013',
  'literal-master-SECRET-0014',
];

test('modelsBody: an OpenAI model list, one entry per group', () => {
  const s = build(SECRET_CONFIG, ENV_SECRETS);
  const body = JSON.parse(s.modelsBody) as { object: string; data: { id: string; object: string; created: number; owned_by: string }[] };
  assert.equal(body.object, 'list');
  assert.deepEqual(
    body.data.map((m) => m.id),
    ['gpt-4o', 'claude', 'vllm', 'bedrock', 'mock'],
  );
  for (const m of body.data) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    assert.ok(Number.isInteger(m.created) && m.created > 1_600_000_000);
    assert.equal(typeof m.owned_by, 'string');
  }
  assert.deepEqual(build('model_list: []\n').modelsBody, JSON.stringify({ object: 'list', data: [] }));
});

test('modelInfoBody: one entry per deployment with model_name, litellm_params and model_info', () => {
  const s = build(SECRET_CONFIG, ENV_SECRETS);
  const body = JSON.parse(s.modelInfoBody) as { data: { model_name: string; litellm_params: Record<string, unknown>; model_info: Record<string, unknown> }[] };
  assert.equal(body.data.length, 6);
  assert.deepEqual(
    body.data.map((d) => d.model_name),
    ['gpt-4o', 'gpt-4o', 'claude', 'vllm', 'bedrock', 'mock'],
  );
  const [openai, azure] = body.data;
  assert.equal(openai!.litellm_params.model, 'openai/gpt-4o');
  assert.equal(openai!.model_info.id, 'openai-1');
  assert.equal(openai!.model_info.litellm_provider, 'openai');
  assert.equal(openai!.model_info.mode, 'chat');
  assert.equal(openai!.model_info.base_model, 'gpt-4o');
  // Header names survive, values do not.
  assert.deepEqual(Object.keys(openai!.litellm_params.extra_headers as object).sort(), ['Authorization', 'X-Token']);
  assert.equal(azure!.litellm_params.api_base, 'https://x.openai.azure.com');
  assert.equal(azure!.litellm_params.api_version, '2024-10-21');
  assert.match(String(azure!.model_info.id), /^[0-9a-f]{64}$/);
  assert.equal(azure!.model_info.id, s.groups.get('gpt-4o')!.targets[1]!.id);
  assert.equal(azure!.model_info.litellm_provider, 'azure');
  for (const d of body.data) {
    assert.ok(!('api_key' in d.litellm_params), `${d.model_name} shows api_key`);
    assert.equal(typeof d.model_info.id, 'string');
  }
  const bedrock = body.data[4]!;
  assert.ok(!('aws_secret_access_key' in bedrock.litellm_params));
  assert.ok(!('aws_access_key_id' in bedrock.litellm_params));
  assert.ok(!('aws_session_token' in bedrock.litellm_params));
});

test('modelsBody and modelInfoBody contain no api_key, extra_headers or os.environ secret values', () => {
  const s = build(SECRET_CONFIG, ENV_SECRETS);
  // Sanity: the secrets did reach the targets (so the check below is not vacuous).
  const allHeaders = [...s.groups.values()].flatMap((g) => g.targets.flatMap((t) => t.headers)).join('\n');
  // The extra Authorization header replaces the provider's own, so the api_key is not sent here.
  assert.ok(allHeaders.includes(ENV_SECRETS.AZURE_API_KEY));
  assert.ok(allHeaders.includes(ENV_SECRETS.MY_HEADER_TOKEN));
  assert.ok(allHeaders.includes('literal-header-SECRET-0010'));
  for (const secret of ALL_SECRETS) {
    assert.ok(!s.modelsBody.includes(secret), `modelsBody contains ${secret}`);
    assert.ok(!s.modelInfoBody.includes(secret), `modelInfoBody contains ${secret}`);
  }
  assert.doesNotMatch(s.modelInfoBody, /SECRET/);
});

test('other credential-like litellm_params are hidden from /model/info', () => {
  const s = build(
    `
model_list:
  - model_name: az
    litellm_params:
      model: azure/dep
      api_base: https://x.openai.azure.com
      azure_ad_token: os.environ/AZ_AD_TOKEN
  - model_name: br
    litellm_params:
      model: bedrock/anthropic.claude-v2
      aws_web_identity_token: os.environ/WEB_ID
`,
    { AZ_AD_TOKEN: 'eyJ-ad-token-SECRET', WEB_ID: 'web-identity-SECRET' },
  );
  assert.doesNotMatch(s.modelInfoBody, /SECRET/);
});

test('the snapshot builder does not mutate the config', () => {
  const cfg = parse(SECRET_CONFIG, ENV_SECRETS);
  const before = JSON.stringify(cfg);
  buildSnapshot(cfg, { version: 1, detailedDebug: true, env: ENV_SECRETS, slots: new SlotTable(64) });
  assert.equal(JSON.stringify(cfg), before);
});

test('custom_llm_provider names the provider of a model written without its prefix (LiteLLM UI models)', () => {
  const bare = one('model: my-served-model\ncustom_llm_provider: hosted_vllm\napi_base: http://vllm.local:8000/v1');
  assert.equal(bare.provider, 'hosted_vllm');
  assert.equal(bare.upstreamModel, 'my-served-model');
  assert.equal(bare.unavailable, null);
  const prefixed = one('model: openai/gpt-4o\ncustom_llm_provider: openai\napi_key: sk-x');
  assert.equal(prefixed.provider, 'openai');
  assert.equal(prefixed.upstreamModel, 'gpt-4o');
  // an unknown custom_llm_provider changes nothing
  assert.equal(one('model: anthropic/claude-x\ncustom_llm_provider: nosuch\napi_key: k').provider, 'anthropic');
});
