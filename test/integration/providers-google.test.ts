// vertex_ai/ and gemini/ through the real gateway process against the fake Google
// (test/support/fake-google.ts): Claude on Vertex (rawPredict / streamRawPredict) and Gemini on
// Vertex and on AI Studio (generateContent / streamGenerateContent), from both client dialects,
// streamed and not, with tools and thinking; the fake's token endpoint checks the service
// account's signed assertion and its Vertex checks the bearer token it issued. Answers are written
// 7 bytes at a time (one byte at a time in one test), so every frame is split. Usage reaches the
// spend log with its cached tokens; upstream errors reach the client in its own dialect; a token
// is refreshed before it expires, off the request path (counted by the fake's issue count).
// Nothing leaves loopback: no metadata server (a dead port), credentials given explicitly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from 'pg';
import { startFakeGoogle, googleTestEnv, type FakeGoogle } from '../support/fake-google';
import { adminOk, call, closeAndCheckLedgers, dbPool, ledgerDatabase, startWeirOn, streamCall, waitFor, waitForLogs, writeConfigFile, type Weir, MASTER_KEY } from './governance-helpers';
import { accumulateAnthropic, accumulateOpenAI, accumulateResponses } from '../unit/translate-helpers';

let google: FakeGoogle;
let weir: Weir;
let pool: Pool;
let dir: string;
let deadPort: number;

async function freePortThatRefuses(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const AUTH = { authorization: `Bearer ${MASTER_KEY}` };
const PRICES = 'input_cost_per_token: 0.000001, output_cost_per_token: 0.00001, cache_read_input_token_cost: 0.0000001';

before(async () => {
  google = await startFakeGoogle();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-google-'));
  const saPath = path.join(dir, 'sa.json');
  fs.writeFileSync(saPath, JSON.stringify(google.serviceAccount));
  deadPort = await freePortThatRefuses();
  const db = await ledgerDatabase('providers_google');
  pool = dbPool(db);
  const inline = JSON.stringify(JSON.stringify(google.serviceAccount)); // a YAML string holding the JSON
  const refreshSa = JSON.stringify(JSON.stringify({ ...google.serviceAccount, weir_test: 'refresh' }));
  // The same account with a key the token endpoint does not know: every assertion is refused.
  const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const wrongSa = JSON.stringify(JSON.stringify({ ...google.serviceAccount, private_key: otherKey }));
  const yaml = `
model_list:
  - model_name: claude-vertex
    litellm_params: { model: vertex_ai/claude-sonnet-4-5@20250929, vertex_project: ${google.project}, vertex_location: us-east5, vertex_credentials: ${saPath}, api_base: ${google.url}, ${PRICES} }
  - model_name: claude-vertex-global
    litellm_params: { model: vertex_ai/claude-opus-4-1, vertex_project: ${google.project}, vertex_location: global, vertex_credentials: ${inline}, api_base: ${google.url} }
  - model_name: claude-vertex-env
    litellm_params: { model: vertex_ai/claude-haiku-4-5, vertex_location: europe-west1, vertex_credentials: os.environ/VERTEX_SA_JSON, api_base: ${google.url} }
  - model_name: claude-vertex-adc
    litellm_params: { model: vertex_ai/claude-haiku-4-5, api_base: ${google.url} }
  - model_name: gemini-vertex
    litellm_params: { model: vertex_ai/gemini-2.5-pro, vertex_project: ${google.project}, vertex_location: us-central1, vertex_credentials: ${saPath}, api_base: ${google.url}, ${PRICES} }
  - model_name: gemini-refresh
    litellm_params: { model: vertex_ai/gemini-2.5-flash, vertex_project: ${google.project}, vertex_credentials: ${refreshSa}, api_base: ${google.url} }
  - model_name: claude-vertex-wrong-key
    litellm_params: { model: vertex_ai/claude-sonnet-4-5@20250929, vertex_project: ${google.project}, vertex_location: us-east5, vertex_credentials: ${wrongSa}, api_base: ${google.url} }
  - model_name: gemini-studio
    litellm_params: { model: gemini/gemini-2.5-flash, api_base: ${google.url}, ${PRICES} }
  - model_name: "vertex_ai/*"
    litellm_params: { model: "vertex_ai/*", vertex_project: ${google.project}, vertex_location: us-east5, vertex_credentials: ${saPath}, api_base: ${google.url} }
  - model_name: gemini-studio-bad-key
    litellm_params: { model: gemini/gemini-2.5-flash, api_base: ${google.url}, api_key: AIza-wrong-key-000000 }
router_settings: { num_retries: 0 }
general_settings:
  master_key: ${MASTER_KEY}
  database_url: ${db}
  proxy_batch_write_at: 0.2
`;
  weir = await startWeirOn(writeConfigFile(yaml), {
    workers: 1,
    env: {
      ...googleTestEnv(deadPort, dir),
      VERTEX_SA_JSON: JSON.stringify(google.serviceAccount),
      GOOGLE_APPLICATION_CREDENTIALS: saPath,
      VERTEXAI_PROJECT: google.project,
      GEMINI_API_KEY: google.apiKey,
    },
  });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => google?.close());
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** SpendLogs.metadata as the driver returns it (jsonb: already an object). */
const meta = (m: unknown): any => (typeof m === 'string' ? JSON.parse(m) : m);
/** Anthropic's keep-alive `ping` events, which the test's stream reader does not take. */
const withoutPings = (sse: string) => sse.split('\n\n').filter((e) => !e.startsWith('event: ping')).join('\n\n');

const modelCalls = () => google.requests.filter((r) => r.surface !== 'token');
const lastCall = () => modelCalls()[modelCalls().length - 1]!;

const chat = (model: string, extra: Record<string, unknown> = {}) =>
  call(weir.url, '/v1/chat/completions', { headers: AUTH, body: { model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...extra } });
const messages = (model: string, extra: Record<string, unknown> = {}) =>
  call(weir.url, '/v1/messages', { headers: { ...AUTH, 'anthropic-version': '2023-06-01' }, body: { model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...extra } });
const streamChat = (model: string, extra: Record<string, unknown> = {}) =>
  streamCall(weir.url, '/v1/chat/completions', AUTH, { model, max_tokens: 64, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }], ...extra });
const streamMessages = (model: string, extra: Record<string, unknown> = {}) =>
  streamCall(weir.url, '/v1/messages', { ...AUTH, 'anthropic-version': '2023-06-01', 'anthropic-beta': 'interleaved-thinking-2025-05-14' }, { model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }], ...extra });

const BASH_TOOL_CHAT = { type: 'function', function: { name: 'Bash', description: 'run', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' } } };
const BASH_TOOL_ANTHROPIC = { name: 'Bash', description: 'run', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'], additionalProperties: false } };
const toolCallReply = () => ({ reply: { toolCall: { id: 'x', name: 'Bash', arguments: '{"command":"ls -la"}' } } });

describe('Claude on Vertex AI (rawPredict / streamRawPredict)', () => {
  test('/v1/messages streamed: the Anthropic events come back whole, the body went without model and with anthropic_version, the bearer the fake issued', async () => {
    google.reset();
    google.chunkBytes = 1;
    google.script = () => ({ reply: { text: 'Bonjour — ünïcode from Vertex' } });
    const r = await streamMessages('claude-vertex');
    assert.equal(r.status, 200, r.text);
    const a = accumulateAnthropic(withoutPings(r.text));
    assert.equal(a.message.content[0].text, 'Bonjour — ünïcode from Vertex');
    const up = lastCall();
    assert.equal(up.path, `/v1/projects/${google.project}/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict`);
    assert.equal(up.json.anthropic_version, 'vertex-2023-10-16');
    assert.equal('model' in up.json, false);
    assert.match(String(up.headers.authorization), /^Bearer ya29\.fake-\d+$/);
    assert.equal(up.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
    assert.equal(up.headers['x-api-key'], undefined);
  });

  test('/v1/chat/completions, not streamed: translated to Anthropic, rawPredict, the answer back as chat', async () => {
    google.reset();
    const r = await chat('claude-vertex');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Hello from Google');
    assert.equal(r.json.model, 'claude-vertex');
    assert.match(lastCall().path, /:rawPredict$/);
  });

  test('chat streamed with tools: the tool call comes back as chat tool_calls', async () => {
    google.reset();
    google.script = toolCallReply;
    const r = await streamChat('claude-vertex', { tools: [BASH_TOOL_CHAT] });
    assert.equal(r.status, 200, r.text);
    const o = accumulateOpenAI(r.text);
    assert.equal(o.finish_reason, 'tool_calls');
    assert.deepEqual(JSON.parse(o.message.tool_calls[0].function.arguments), { command: 'ls -la' });
  });

  test('location global, credentials as inline JSON: the path names locations/global', async () => {
    google.reset();
    const r = await messages('claude-vertex-global');
    assert.equal(r.status, 200, r.text);
    assert.equal(lastCall().location, 'global');
    assert.equal(lastCall().model, 'claude-opus-4-1');
  });

  test('credentials from os.environ/, project from VERTEXAI_PROJECT; ADC from GOOGLE_APPLICATION_CREDENTIALS', async () => {
    google.reset();
    assert.equal((await messages('claude-vertex-env')).status, 200);
    assert.equal(lastCall().location, 'europe-west1');
    const adc = await messages('claude-vertex-adc');
    assert.equal(adc.status, 200, adc.text);
    assert.equal(lastCall().location, 'us-central1', 'the default location');
  });

  test('a wildcard vertex_ai/* deployment: Claude names go to the anthropic publisher, Gemini names to google’s, each in its dialect', async () => {
    google.reset();
    const c = await messages('vertex_ai/claude-haiku-4-5@20251001');
    assert.equal(c.status, 200, c.text);
    assert.equal(lastCall().path, `/v1/projects/${google.project}/locations/us-east5/publishers/anthropic/models/claude-haiku-4-5@20251001:rawPredict`);
    const g = await messages('vertex_ai/gemini-2.5-flash');
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.content[0].text, 'Hello from Google');
    assert.equal(lastCall().path, `/v1/projects/${google.project}/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent`);
  });

  test('an upstream error reaches each client in its own dialect, with its status', async () => {
    google.reset();
    google.failNext(429, 'Quota exceeded for aiplatform.googleapis.com', 'RESOURCE_EXHAUSTED');
    const a = await messages('claude-vertex');
    assert.equal(a.status, 429, a.text);
    assert.equal(a.json.type, 'error');
    assert.equal(a.json.error.type, 'rate_limit_error');
    assert.match(a.json.error.message, /Quota exceeded/);
    google.failNext(400, 'messages: bad', 'INVALID_ARGUMENT');
    const o = await chat('claude-vertex');
    assert.equal(o.status, 400, o.text);
    assert.equal(o.json.error.code, '400');
    assert.match(o.json.error.message, /VertexAIException - messages: bad/);
  });

  test('a token the endpoint refuses: a 502 in each client’s dialect naming the token failure, no model call, no key in the message', async () => {
    google.reset();
    const a = await messages('claude-vertex-wrong-key');
    assert.equal(a.status, 502, a.text);
    assert.equal(a.json.type, 'error');
    assert.match(a.json.error.message, /could not get a Google access token/);
    const o = await chat('claude-vertex-wrong-key');
    assert.equal(o.status, 502, o.text);
    assert.match(o.json.error.message, /could not get a Google access token/);
    assert.ok(!a.text.includes('PRIVATE KEY') && !o.text.includes('PRIVATE KEY'));
    assert.equal(modelCalls().length, 0);
  });

  test('/v1/messages/count_tokens is answered by Vertex’s count-tokens model', async () => {
    google.reset();
    const r = await call(weir.url, '/v1/messages/count_tokens', { headers: { ...AUTH, 'anthropic-version': '2023-06-01' }, body: { model: 'claude-vertex', messages: [{ role: 'user', content: 'count me' }] } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.input_tokens > 0);
    const up = lastCall();
    assert.match(up.path, /\/publishers\/anthropic\/models\/count-tokens:rawPredict$/);
    assert.equal(up.json.model, 'claude-sonnet-4-5@20250929');
  });
});

describe('Gemini (Vertex AI and AI Studio), translated', () => {
  test('chat → Gemini on Vertex, not streamed: generateContent with the translated body, usage with cached tokens in the spend row', async () => {
    google.reset();
    google.script = () => ({ reply: { text: 'Gemini says hi' }, cachedTokens: 5, thoughtsTokens: 3 });
    const k = await adminOk(weir.url, '/key/generate', {});
    const r = await call(weir.url, '/v1/chat/completions', { headers: { authorization: `Bearer ${k.key}` }, body: { model: 'gemini-vertex', messages: [{ role: 'system', content: 'terse' }, { role: 'user', content: 'hi' }], temperature: 0.3 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Gemini says hi');
    assert.equal(r.json.usage.prompt_tokens_details.cached_tokens, 5);
    const up = lastCall();
    assert.equal(up.path, `/v1/projects/${google.project}/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent`);
    assert.deepEqual(up.json.systemInstruction, { parts: [{ text: 'terse' }] });
    assert.equal(up.json.generationConfig.temperature, 0.3);
    await waitForLogs(pool, 1, 'api_key = $1', [k.token]);
    const row = (await pool.query(`SELECT model, custom_llm_provider, prompt_tokens, completion_tokens, spend, metadata FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).rows[0];
    assert.equal(row.model, 'gemini-2.5-pro');
    assert.equal(row.custom_llm_provider, 'vertex_ai');
    assert.equal(row.prompt_tokens, r.json.usage.prompt_tokens);
    assert.equal(row.completion_tokens, r.json.usage.completion_tokens);
    assert.equal(meta(row.metadata).additional_usage_values.cache_read_input_tokens, 5);
    const expected = (r.json.usage.prompt_tokens - 5) * 0.000001 + 5 * 0.0000001 + r.json.usage.completion_tokens * 0.00001;
    assert.ok(Math.abs(row.spend - expected) < 1e-12, `spend ${row.spend} ≠ ${expected}`);
  });

  test('/v1/messages streamed with thinking and tools → Gemini: thinkingConfig from the budget, thinking and tool_use blocks back, usage in message_delta', async () => {
    google.reset();
    google.script = () => ({ ...toolCallReply(), thinking: 'I should list files', cachedTokens: 4, thoughtsTokens: 6 });
    const k = await adminOk(weir.url, '/key/generate', {});
    const r = await streamCall(weir.url, '/v1/messages', { 'x-api-key': k.key, 'anthropic-version': '2023-06-01' }, {
      model: 'gemini-vertex', max_tokens: 8000, stream: true, thinking: { type: 'enabled', budget_tokens: 2500 }, tools: [BASH_TOOL_ANTHROPIC], messages: [{ role: 'user', content: 'list' }],
    });
    assert.equal(r.status, 200, r.text);
    const a = accumulateAnthropic(r.text);
    assert.deepEqual(a.message.content.map((b: any) => b.type), ['thinking', 'tool_use']);
    assert.equal(a.message.content[0].thinking, 'I should list files');
    assert.deepEqual(a.message.content[1].input, { command: 'ls -la' });
    assert.equal(a.message.stop_reason, 'tool_use');
    assert.equal(a.message.usage.cache_read_input_tokens, 4);
    const up = lastCall();
    assert.match(up.path, /:streamGenerateContent$/);
    assert.equal(up.query, 'alt=sse');
    assert.deepEqual(up.json.generationConfig.thinkingConfig, { thinkingBudget: 2500, includeThoughts: true });
    assert.deepEqual(up.json.tools[0].functionDeclarations[0].parameters, { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] });
    await waitForLogs(pool, 1, 'api_key = $1', [k.token]);
    const row = (await pool.query(`SELECT completion_tokens, metadata FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).rows[0];
    assert.equal(meta(row.metadata).additional_usage_values.cache_read_input_tokens, 4);
    assert.equal(row.completion_tokens, a.message.usage.output_tokens);
  });

  test('the tool result goes back as a functionResponse with the call’s thought signature on the functionCall part', async () => {
    google.reset();
    google.script = toolCallReply;
    const first = await chat('gemini-studio', { tools: [BASH_TOOL_CHAT] });
    assert.equal(first.status, 200, first.text);
    const m = first.json.choices[0].message;
    google.script = () => ({ reply: { text: 'done' } });
    const second = await chat('gemini-studio', { tools: [BASH_TOOL_CHAT], messages: [{ role: 'user', content: 'hi' }, m, { role: 'tool', tool_call_id: m.tool_calls[0].id, content: 'a.txt' }] });
    assert.equal(second.status, 200, second.text);
    const contents = lastCall().json.contents;
    assert.deepEqual(contents[1].parts[0].functionCall, { name: 'Bash', args: { command: 'ls -la' } });
    assert.equal(contents[1].parts[0].thoughtSignature, 'c2lnbmF0dXJl+/8=');
    assert.deepEqual(contents[2].parts[0], { functionResponse: { name: 'Bash', response: { content: 'a.txt' } } });
  });

  test('bad input on the translated path is answered by Weir in the client’s dialect, and nothing is sent', async () => {
    google.reset();
    const o = await chat('gemini-studio', { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'Bash', arguments: '{not json' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] });
    assert.equal(o.status, 400, o.text);
    assert.equal(o.json.error.param, 'messages[1].tool_calls[0].function.arguments');
    const a = await messages('gemini-studio', { messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'nobody', content: 'x' }] }] });
    assert.equal(a.status, 400, a.text);
    assert.equal(a.json.type, 'error');
    assert.equal(a.json.error.type, 'invalid_request_error');
    assert.equal(modelCalls().length, 0);
  });

  test('AI Studio streamed to a chat client: x-goog-api-key from GEMINI_API_KEY, the stream in chat chunks with usage', async () => {
    google.reset();
    google.chunkBytes = 1;
    google.script = () => ({ reply: { text: 'Streaming from AI Studio' }, thinking: 'hmm' });
    const r = await streamChat('gemini-studio', { reasoning_effort: 'high' });
    assert.equal(r.status, 200, r.text);
    const o = accumulateOpenAI(r.text);
    assert.equal(o.message.content, 'Streaming from AI Studio');
    assert.equal(o.message.reasoning_content, 'hmm');
    assert.equal(o.done, true);
    assert.ok(o.usage && o.usage.prompt_tokens > 0);
    const up = lastCall();
    assert.equal(up.surface, 'studio');
    assert.equal(up.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    assert.equal(up.headers['x-goog-api-key'], google.apiKey);
    assert.equal(up.headers.authorization, undefined, 'the gateway key stays at the gateway');
    assert.deepEqual(up.json.generationConfig.thinkingConfig, { thinkingBudget: 4096, includeThoughts: true });
  });

  test('the Responses API (Codex) reaches Gemini through chat, streamed and not', async () => {
    google.reset();
    google.script = () => ({ reply: { text: 'responses via gemini' } });
    const r = await call(weir.url, '/v1/responses', { headers: AUTH, body: { model: 'gemini-studio', input: 'hi' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'response');
    assert.match(JSON.stringify(r.json.output), /responses via gemini/);
    const s = await streamCall(weir.url, '/v1/responses', AUTH, { model: 'gemini-studio', input: 'hi', stream: true });
    assert.equal(s.status, 200, s.text);
    const acc = accumulateResponses(s.text);
    assert.equal(acc.terminal.type, 'response.completed');
    assert.match(JSON.stringify(acc.output), /responses via gemini/);
    assert.match(lastCall().path, /:streamGenerateContent$/);
  });

  test('a key AI Studio refuses: a 400 in the client’s dialect, naming Gemini, never the key', async () => {
    google.reset();
    const a = await messages('gemini-studio-bad-key');
    assert.equal(a.status, 400, a.text);
    assert.equal(a.json.type, 'error');
    assert.match(a.json.error.message, /GeminiException - API key not valid/);
    assert.ok(!a.text.includes('AIza-wrong-key-000000'));
    const o = await streamChat('gemini-studio-bad-key');
    assert.equal(o.status, 400, o.text);
    assert.match(JSON.parse(o.text).error.message, /API key not valid/);
  });

  test('a Gemini error before the stream starts: the streaming client gets it in its dialect, with the status', async () => {
    google.reset();
    google.failNext(503, 'The model is overloaded', 'UNAVAILABLE');
    const r = await streamMessages('gemini-vertex');
    assert.equal(r.status, 503, r.text);
    assert.equal(JSON.parse(r.text).error.type, 'overloaded_error');
  });
});

describe('Google access tokens', () => {
  test('a token is refreshed before it expires, off the request path: requests keep using a valid cached token', async () => {
    google.reset();
    google.expiresIn = 2;
    try {
      const before = google.tokensIssued;
      const r1 = await chat('gemini-refresh');
      assert.equal(r1.status, 200, r1.text);
      assert.equal(google.tokensIssued, before + 1, 'the first call waited for the first token');
      const first = lastCall().headers.authorization;
      // Half the 2 s lifetime later the gateway fetches the next token on its own; no request asks for it.
      await waitFor('a refreshed token', () => google.tokensIssued >= before + 2, 10_000);
      const r2 = await chat('gemini-refresh');
      assert.equal(r2.status, 200, r2.text);
      assert.notEqual(lastCall().headers.authorization, first, 'the second call used the refreshed token');
      const tokenCalls = google.requests.filter((r) => r.surface === 'token').length;
      assert.ok(tokenCalls >= 2);
    } finally {
      google.expiresIn = 3600;
    }
  });

  test('the other credentials fetched one token each for all their calls', async () => {
    google.reset();
    for (let i = 0; i < 3; i++) assert.equal((await messages('claude-vertex')).status, 200);
    assert.equal(google.requests.filter((r) => r.surface === 'token').length, 0, 'the cached token served them');
  });
});

describe('/vertex_ai/* pass-through', () => {
  const vertexPath = (publisher: string, model: string, method: string, location = 'us-east5') => `/v1/projects/${google.project}/locations/${location}/publishers/${publisher}/models/${model}:${method}`;

  test('Claude streamRawPredict with a virtual key: Weir’s bearer token upstream (never the caller’s), the body as sent, a spend row for the model in the path', async () => {
    google.reset();
    google.script = () => ({ reply: { text: 'through the pass-through' } });
    const k = await adminOk(weir.url, '/key/generate', {});
    const body = { anthropic_version: 'vertex-2023-10-16', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const r = await streamCall(weir.url, `/vertex_ai${vertexPath('anthropic', 'claude-sonnet-4-5@20250929', 'streamRawPredict')}`, { authorization: `Bearer ${k.key}`, 'anthropic-version': '2023-06-01' }, body);
    assert.equal(r.status, 200, r.text);
    assert.equal(accumulateAnthropic(withoutPings(r.text)).message.content[0].text, 'through the pass-through');
    const up = lastCall();
    assert.equal(up.path, vertexPath('anthropic', 'claude-sonnet-4-5@20250929', 'streamRawPredict'));
    assert.match(String(up.headers.authorization), /^Bearer ya29\.fake-/);
    assert.ok(!JSON.stringify(up.headers).includes(k.key), 'the Weir key stays at Weir');
    assert.deepEqual(up.json, body);
    await waitForLogs(pool, 1, 'api_key = $1', [k.token]);
    const row = (await pool.query(`SELECT call_type, model, custom_llm_provider, completion_tokens FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).rows[0];
    assert.equal(row.call_type, 'pass_through_endpoint');
    assert.equal(row.model, 'claude-sonnet-4-5@20250929');
    assert.equal(row.custom_llm_provider, 'vertex_ai');
    assert.ok(row.completion_tokens > 0);
  });

  test('Gemini streamGenerateContent through /vertex-ai/: usage with cached tokens in the spend row', async () => {
    google.reset();
    google.script = () => ({ reply: { text: 'gemini via pass-through' }, cachedTokens: 7 });
    const k = await adminOk(weir.url, '/key/generate', {});
    const r = await streamCall(weir.url, `/vertex-ai${vertexPath('google', 'gemini-2.5-pro', 'streamGenerateContent', 'us-central1')}?alt=sse`, { authorization: `Bearer ${k.key}` }, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.text.startsWith('data: '), 'Gemini’s own SSE, passed through');
    await waitForLogs(pool, 1, 'api_key = $1', [k.token]);
    const row = (await pool.query(`SELECT model, prompt_tokens, metadata FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).rows[0];
    assert.equal(row.model, 'gemini-2.5-pro');
    assert.ok(row.prompt_tokens > 0);
    assert.equal(meta(row.metadata).additional_usage_values.cache_read_input_tokens, 7);
  });

  test('a key not allowed the model gets a 403 in Anthropic’s shape, and nothing is sent; other Vertex routes are for admins', async () => {
    google.reset();
    const k = await adminOk(weir.url, '/key/generate', { models: ['gemini-vertex'] });
    const r = await call(weir.url, `/vertex_ai${vertexPath('anthropic', 'claude-sonnet-4-5@20250929', 'rawPredict')}`, { headers: { authorization: `Bearer ${k.key}` }, body: { anthropic_version: 'vertex-2023-10-16', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.type, 'error');
    const other = await call(weir.url, `/vertex_ai/v1/projects/${google.project}/locations/us-central1/endpoints`, { method: 'GET', headers: { authorization: `Bearer ${k.key}` } });
    assert.equal(other.status, 403, other.text);
    assert.equal(modelCalls().length, 0);
  });
});

describe('/gemini/* pass-through', () => {
  test('a Google GenAI client with a Weir key in x-goog-api-key: AI Studio gets the deployment’s key, the call is governed and billed with its cached tokens', async () => {
    google.reset();
    google.script = () => ({ reply: { text: 'studio via pass-through' }, cachedTokens: 3 });
    const k = await adminOk(weir.url, '/key/generate', {});
    const r = await call(weir.url, '/gemini/v1beta/models/gemini-2.5-flash:generateContent', { headers: { 'x-goog-api-key': k.key }, body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.candidates[0].content.parts[0].text, 'studio via pass-through');
    const up = lastCall();
    assert.equal(up.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(up.headers['x-goog-api-key'], google.apiKey, 'the deployment’s key, not the caller’s');
    await waitForLogs(pool, 1, 'api_key = $1', [k.token]);
    const row = (await pool.query(`SELECT model, custom_llm_provider, metadata FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).rows[0];
    assert.equal(row.model, 'gemini-2.5-flash');
    assert.equal(row.custom_llm_provider, 'gemini');
    assert.equal(meta(row.metadata).additional_usage_values.cache_read_input_tokens, 3);
    const denied = await adminOk(weir.url, '/key/generate', { models: ['claude-vertex'] });
    const d = await call(weir.url, '/gemini/v1beta/models/gemini-2.5-flash:generateContent', { headers: { 'x-goog-api-key': denied.key }, body: { contents: [] } });
    assert.equal(d.status, 403, d.text);
  });
});
