// Error envelopes (OpenAI and Anthropic, whole and as a stream's last event) and the translation of
// what an upstream said into the client's error: upstream status kept, upstream message extracted,
// deployment named, retry-after carried, the deployment's key never shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError, anthropicType, errorBody, streamErrorEvent } from '../../src/gateway/errors';
import { describeTarget, fromUpstreamFailure, fromUpstreamStatus } from '../../src/gateway/upstream-error';
import type { Target } from '../../src/gateway/snapshot';
import { UNKNOWN_PRICE } from '../../src/pricing/cost';

const KEY = 'sk-proj-UPSTREAMKEY-abcdef0123456789';

function target(over: Partial<Target> = {}): Target {
  return {
    id: 'dep-openai-1',
    slot: 0,
    group: 'gpt-4o',
    provider: 'openai',
    dialect: 'openai',
    upstreamModel: 'gpt-4o-2024-08-06',
    upstreamModelJson: '"gpt-4o-2024-08-06"',
    origin: 'https://api.openai.com',
    path: '/v1/chat/completions',
    apiBase: 'https://api.openai.com/v1',
    headers: ['authorization', `Bearer ${KEY}`],
    secrets: [KEY],
    unavailable: null,
    timeoutMs: 30_000,
    streamTimeoutMs: 10_000,
    weight: 0,
    rpm: 0,
    tpm: 0,
    order: Infinity,
    cooldownMs: null,
    price: UNKNOWN_PRICE,
    responsesPath: null,
    embeddingsPath: null,
    ...over,
  };
}

const ANTHROPIC = target({
  id: 'dep-anthropic-1',
  group: 'claude',
  provider: 'anthropic',
  dialect: 'anthropic',
  upstreamModel: 'claude-sonnet-4-5',
  apiBase: 'https://api.anthropic.com',
  headers: ['x-api-key', 'sk-ant-api03-SECRETSECRET'],
  secrets: ['sk-ant-api03-SECRETSECRET'],
});

const json = (o: unknown) => Buffer.from(JSON.stringify(o));

// ---- envelopes -----------------------------------------------------------------------------------

test('GatewayError defaults: type by status, param null, no headers', () => {
  const e = new GatewayError(429, 'slow down');
  assert.ok(e instanceof Error);
  assert.equal(e.message, 'slow down');
  assert.equal(e.status, 429);
  assert.equal(e.type, 'rate_limit_error');
  assert.equal(e.param, null);
  assert.deepEqual(e.headers, []);
  const types: [number, string][] = [
    [400, 'bad_request_error'],
    [401, 'auth_error'],
    [404, 'not_found_error'],
    [408, 'timeout_error'],
    [413, 'request_too_large'],
    [422, 'bad_request_error'],
    [429, 'rate_limit_error'],
    [500, 'internal_server_error'],
    [502, 'internal_server_error'],
    [503, 'internal_server_error'],
  ];
  for (const [status, type] of types) assert.equal(new GatewayError(status, 'x').type, type, String(status));
  assert.equal(new GatewayError(403, 'x', 'key_model_access_denied', 'model').param, 'model');
});

test('OpenAI envelope: {"error":{"message","type","param","code":"<status>"}}', () => {
  const e = new GatewayError(401, 'Authentication Error, No api key passed in.', 'auth_error');
  const text = errorBody('openai', e);
  assert.equal(text, '{"error":{"message":"Authentication Error, No api key passed in.","type":"auth_error","param":null,"code":"401"}}');
  const withParam = JSON.parse(errorBody('openai', new GatewayError(403, 'no "access"\n', 'key_model_access_denied', 'model'))) as {
    error: { message: string; type: string; param: string | null; code: string };
  };
  assert.deepEqual(withParam, { error: { message: 'no "access"\n', type: 'key_model_access_denied', param: 'model', code: '403' } });
  assert.equal(typeof withParam.error.code, 'string');
});

test('Anthropic envelope: {"type":"error","error":{"type","message"}} with the status → type map', () => {
  const map: [number, string][] = [
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [413, 'request_too_large'],
    [422, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [529, 'overloaded_error'],
  ];
  for (const [status, type] of map) {
    assert.equal(anthropicType(status), type, String(status));
    // The OpenAI-style type on the error does not leak into the Anthropic envelope.
    const body = JSON.parse(errorBody('anthropic', new GatewayError(status, `m${status}`, 'budget_exceeded'))) as unknown;
    assert.deepEqual(body, { type: 'error', error: { type, message: `m${status}` } });
  }
  assert.equal(errorBody('anthropic', new GatewayError(401, 'no key')), '{"type":"error","error":{"type":"authentication_error","message":"no key"}}');
});

test('stream error events in each framing', () => {
  const e = new GatewayError(502, 'upstream went away');
  const a = streamErrorEvent('anthropic', e);
  assert.match(a, /^event: error\ndata: \{.*\}\n\n$/);
  assert.deepEqual(JSON.parse(a.slice('event: error\ndata: '.length)), { type: 'error', error: { type: 'api_error', message: 'upstream went away' } });
  const o = streamErrorEvent('openai', e);
  assert.match(o, /^data: \{.*\}\n\n$/);
  assert.ok(!o.includes('event:'));
  assert.deepEqual(JSON.parse(o.slice('data: '.length)), { error: { message: 'upstream went away', type: 'internal_server_error', param: null, code: '502' } });
  // A Responses stream (Codex) ends in the Responses API's own error event.
  const r = streamErrorEvent('responses', new GatewayError(502, 'upstream went away', 'api_connection_error'));
  assert.match(r, /^event: error\ndata: \{.*\}\n\n$/);
  assert.deepEqual(JSON.parse(r.slice('event: error\ndata: '.length)), { type: 'error', code: 'api_connection_error', message: 'upstream went away', param: null });
  // A message with newlines cannot break the SSE framing (JSON escapes them).
  const nl = streamErrorEvent('openai', new GatewayError(500, 'line1\n\ndata: fake'));
  assert.equal(nl.split('\n\n').length, 2);
  const nla = streamErrorEvent('anthropic', new GatewayError(500, 'line1\n\nevent: fake'));
  assert.equal(nla.split('\n\n').length, 2);
});

// ---- fromUpstreamStatus --------------------------------------------------------------------------

test('OpenAI-style upstream error: message and type extracted, status kept, deployment named', () => {
  const body = json({ error: { message: 'This model\'s maximum context length is 128000 tokens.', type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } });
  const e = fromUpstreamStatus(400, {}, body, target());
  assert.equal(e.status, 400);
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /^litellm\.BadRequestError: OpenAIException - This model's maximum context length is 128000 tokens\./);
  assert.ok(e.message.includes('dep-openai-1'), e.message);
  assert.ok(e.message.includes(describeTarget(target())));
  assert.equal(describeTarget(target()), 'deployment dep-openai-1 (model group gpt-4o, openai/gpt-4o-2024-08-06)');
  // Renders as a proper OpenAI envelope with the upstream status as code.
  const env = JSON.parse(errorBody('openai', e)) as { error: { code: string; type: string } };
  assert.equal(env.error.code, '400');
  assert.equal(env.error.type, 'invalid_request_error');
});

test('Anthropic-style upstream error: message and type extracted', () => {
  const body = json({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  const e = fromUpstreamStatus(529, {}, body, ANTHROPIC);
  assert.equal(e.status, 529);
  assert.equal(e.type, 'overloaded_error');
  assert.match(e.message, /AnthropicException - Overloaded\. Received from deployment dep-anthropic-1/);
  assert.match(e.message, /^litellm\.APIError: /);
  assert.deepEqual(JSON.parse(errorBody('anthropic', e)), { type: 'error', error: { type: 'overloaded_error', message: e.message } });
  const rl = fromUpstreamStatus(429, {}, json({ type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } }), ANTHROPIC);
  assert.match(rl.message, /^litellm\.RateLimitError: AnthropicException - Number of request tokens/);
  assert.equal(rl.type, 'rate_limit_error');
});

test('other upstream shapes: error as a string, top-level message, plain text, empty', () => {
  const s = fromUpstreamStatus(500, {}, json({ error: 'model crashed' }), target());
  assert.match(s.message, /OpenAIException - model crashed\./);
  assert.equal(s.type, 'internal_server_error');
  const m = fromUpstreamStatus(404, {}, json({ message: 'no such deployment' }), target());
  assert.match(m.message, /^litellm\.NotFoundError: OpenAIException - no such deployment\./);
  assert.equal(m.type, 'not_found_error');
  const text = fromUpstreamStatus(502, {}, Buffer.from('  <html>Bad Gateway</html>\n'), target());
  assert.match(text.message, /^litellm\.APIConnectionError: OpenAIException - <html>Bad Gateway<\/html>\. Received from deployment dep-openai-1/);
  assert.equal(text.status, 502);
  const empty = fromUpstreamStatus(503, {}, Buffer.alloc(0), target());
  assert.match(empty.message, /ServiceUnavailableError: OpenAIException - status 503\./);
  const weird = fromUpstreamStatus(418, {}, Buffer.from('null'), target());
  assert.equal(weird.status, 418);
  assert.match(weird.message, /^litellm\.BadRequestError: OpenAIException - null\./);
  // A JSON error without a message: the body is the message.
  const noMsg = fromUpstreamStatus(422, {}, json({ detail: [{ loc: ['body', 'messages'], msg: 'field required' }] }), target());
  assert.match(noMsg.message, /UnprocessableEntityError: .*field required/);
  // Long plain-text bodies are cut.
  const long = fromUpstreamStatus(500, {}, Buffer.from('e'.repeat(100_000)), target());
  assert.ok(long.message.length < 2500, `message is ${long.message.length} chars`);
});

test('upstream status is kept for every error status; unknown providers are labelled by name', () => {
  for (const status of [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529]) {
    const e = fromUpstreamStatus(status, {}, json({ error: { message: 'x' } }), target({ provider: 'groq' }));
    assert.equal(e.status, status);
    assert.match(e.message, /^litellm\.\w+: groqException - x\./);
  }
  assert.match(fromUpstreamStatus(401, {}, Buffer.from('x'), target({ provider: 'azure' })).message, /^litellm\.AuthenticationError: AzureException/);
  assert.match(fromUpstreamStatus(403, {}, Buffer.from('x'), target()).message, /^litellm\.PermissionDeniedError/);
});

test('retry-after is carried as a response header', () => {
  const e = fromUpstreamStatus(429, { 'retry-after': '17', 'x-ratelimit-remaining-requests': '0' }, json({ error: { message: 'Rate limit reached' } }), target());
  assert.deepEqual(e.headers, ['retry-after', '17']);
  assert.equal(e.type, 'rate_limit_error');
  assert.deepEqual(fromUpstreamStatus(429, {}, json({ error: { message: 'r' } }), target()).headers, []);
});

test('the deployment key is scrubbed even when the upstream echoes it', () => {
  const t = target();
  const shapes: Buffer[] = [
    json({ error: { message: `Incorrect API key provided: ${KEY}. You can find your API key at https://platform.openai.com.`, type: 'invalid_request_error' } }),
    json({ error: `bad key ${KEY}` }),
    json({ message: `bad key ${KEY} and again ${KEY}` }),
    Buffer.from(`401 Unauthorized: Bearer ${KEY}`),
    Buffer.from(`{"error": {"message": "truncated json with ${KEY}`),
  ];
  for (const body of shapes) {
    const e = fromUpstreamStatus(401, {}, body, t);
    assert.ok(!e.message.includes(KEY), e.message);
    assert.match(e.message, /\[redacted\]/);
    assert.ok(!errorBody('openai', e).includes(KEY));
    assert.ok(!errorBody('anthropic', e).includes(KEY));
  }
  // Several secrets, all scrubbed; an empty secret does not blow the message up.
  const multi = target({ secrets: ['', 'aaa-secret-1', 'bbb-secret-2'] });
  const e = fromUpstreamStatus(400, {}, Buffer.from('aaa-secret-1 / bbb-secret-2'), multi);
  assert.ok(!e.message.includes('secret-1') && !e.message.includes('secret-2'), e.message);
  assert.match(e.message, /\[redacted\] \/ \[redacted\]/);
});

test('a key straddling the 2000-character cut of a plain-text body is not partly shown', () => {
  const body = Buffer.from('x'.repeat(2000 - 20) + ' ' + KEY + ' trailing text');
  const e = fromUpstreamStatus(500, {}, body, target());
  assert.ok(!e.message.includes(KEY.slice(0, 19)), `message shows the key's first 19 characters: …${e.message.slice(e.message.indexOf('sk-proj') - 5, e.message.indexOf('sk-proj') + 60)}`);
});

// ---- fromUpstreamFailure -------------------------------------------------------------------------

test('a timeout → 408 naming the deployment and the time', () => {
  const err = Object.assign(new Error(`Headers Timeout Error (key ${KEY})`), { code: 'UND_ERR_HEADERS_TIMEOUT' });
  const e = fromUpstreamFailure(err, target(), true, 30_000);
  assert.equal(e.status, 408);
  assert.equal(e.type, 'timeout_error');
  assert.match(e.message, /^litellm\.Timeout: OpenAIException - no answer within 30 s from deployment dep-openai-1/);
  assert.ok(!e.message.includes(KEY));
  assert.match(fromUpstreamFailure(new Error('x'), target(), true, 1500).message, /within 1\.5 s/);
  assert.deepEqual(JSON.parse(errorBody('anthropic', e)), { type: 'error', error: { type: 'timeout_error', message: e.message } });
});

test('a connection error → 502 naming the api_base and the error code', () => {
  const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:8000'), { code: 'ECONNREFUSED' });
  const t = target({ provider: 'hosted_vllm', apiBase: 'http://vllm.internal:8000/v1', id: 'vllm-1', group: 'qwen', upstreamModel: 'Qwen/Qwen2.5' });
  const e = fromUpstreamFailure(err, t, false, 30_000);
  assert.equal(e.status, 502);
  assert.equal(e.type, 'api_connection_error');
  assert.match(e.message, /^litellm\.APIConnectionError: hosted_vllmException - could not complete the call to deployment vllm-1 \(model group qwen, hosted_vllm\/Qwen\/Qwen2\.5\)/);
  assert.ok(e.message.includes('at http://vllm.internal:8000/v1'), e.message);
  assert.ok(e.message.includes('ECONNREFUSED: connect ECONNREFUSED 10.0.0.5:8000'), e.message);
  // Without a code, just the message.
  const plain = fromUpstreamFailure(new Error('socket hang up'), t, false, 30_000);
  assert.match(plain.message, /: socket hang up$/);
});

test('a connection error that echoes the key is scrubbed', () => {
  const err = Object.assign(new Error(`request to https://api.openai.com/v1?key=${KEY} failed, Bearer ${KEY}`), { code: 'UND_ERR_SOCKET' });
  const e = fromUpstreamFailure(err, target(), false, 30_000);
  assert.equal(e.status, 502);
  assert.ok(!e.message.includes(KEY), e.message);
  assert.match(e.message, /key=\[redacted\] failed, Bearer \[redacted\]/);
  assert.ok(!streamErrorEvent('openai', e).includes(KEY));
});
