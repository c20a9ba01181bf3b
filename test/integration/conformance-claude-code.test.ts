// Claude Code's wire contract against an Anthropic deployment (issue 5): recorded Claude Code turns
// go through the real gateway to the mock upstream, which replays recorded Anthropic streams. The
// dialects match, so this is the byte pass-through path: what Claude Code sends reaches the
// provider unchanged but for the model, and what the provider streams reaches Claude Code
// unchanged. Each test named after an issue reproduces what broke there behind LiteLLM.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { call } from '../support/http';
import { agentBody, anthropicTrace, claudeCodeHeaders, claudeCodeToolLoop, fixture, gatewayRig, MASTER_KEY, parsedEvents, PIECES, readEvents, SIGNATURE_ONLY } from './conformance-helpers';

const MODEL = 'claude-sonnet-4-5-20250929';
const STREAM = fixture('conformance/anthropic-stream-claude-code.sse');
const SIGNATURE_ONLY_STREAM = fixture('conformance/anthropic-stream-signature-only.sse');

describe('Claude Code → Anthropic deployment (pass-through)', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: ${MODEL}
    litellm_params: { model: anthropic/${MODEL}, api_base: ${url}, api_key: sk-ant-upstream }
  - model_name: claude-opus-4-5
    litellm_params: { model: anthropic/claude-opus-4-5-20251101, api_base: ${url}, api_key: sk-ant-upstream }
`,
  );

  const send = (fixtureName: string, model?: string) =>
    call(rig.url, '/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: agentBody(`conformance/${fixtureName}`, model) });

  it('the first turn reaches the upstream byte for byte and its stream comes back byte for byte', async () => {
    const sent = agentBody('conformance/claude-code-first-turn.json');
    rig.mock.enqueue({ sse: STREAM });
    const r = await call(rig.url, '/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: sent });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'text/event-stream');
    assert.equal(r.text, STREAM.toString('utf8'), 'the client reads exactly what the provider streamed');
    const seen = rig.mock.requests[0]!;
    assert.equal(seen.path, '/v1/messages');
    // Like LiteLLM the `?beta=true` marker stays at the gateway: the betas themselves travel in anthropic-beta.
    assert.equal(seen.query, '');
    assert.ok(seen.body.equals(sent), 'context_management, output_config, thinking, metadata: every byte as sent');
  });

  it('a tool-loop turn keeps thinking blocks, signatures and tool ids byte for byte; only the model is spliced', async () => {
    const sent = agentBody('conformance/claude-code-tool-loop.json', 'claude-opus-4-5');
    rig.mock.enqueue({ sse: STREAM });
    const r = await call(rig.url, '/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: sent });
    assert.equal(r.status, 200, r.text);
    const expected = sent.toString('utf8').replace('"model":"claude-opus-4-5"', '"model":"claude-opus-4-5-20251101"');
    assert.equal(rig.mock.requests[0]!.body.toString('utf8'), expected);
  });

  it('the stream is byte-identical however the provider’s bytes are cut (events, lines and UTF-8 split)', async () => {
    for (const chunkBytes of PIECES) {
      rig.mock.enqueue({ sse: STREAM, chunkBytes });
      const r = await send('claude-code-tool-loop.json');
      assert.equal(r.text, STREAM.toString('utf8'), `pieces of ${chunkBytes ?? 'all'} bytes`);
    }
  });

  it('#9016/#36736: anthropic-beta reaches the Anthropic upstream whole, claude-code-20250219 included; anthropic-version too', async () => {
    rig.mock.enqueue({ sse: STREAM });
    await send('claude-code-first-turn.json');
    const h = rig.mock.requests[0]!.headers;
    assert.equal(h['anthropic-beta'], claudeCodeHeaders()['anthropic-beta']);
    assert.ok(String(h['anthropic-beta']).split(',').includes('claude-code-20250219'));
    assert.equal(h['anthropic-version'], '2023-06-01');
  });

  it('CLIProxyAPI#2866: no beta is made up — without anthropic-beta from the client none goes upstream; anthropic-version defaults', async () => {
    rig.mock.enqueue({ sse: STREAM });
    const { 'anthropic-beta': _beta, 'anthropic-version': _version, ...headers } = claudeCodeHeaders();
    const r = await call(rig.url, '/v1/messages', { headers, body: agentBody('conformance/claude-code-first-turn.json') });
    assert.equal(r.status, 200, r.text);
    assert.equal(rig.mock.requests[0]!.headers['anthropic-beta'], undefined);
    assert.equal(rig.mock.requests[0]!.headers['anthropic-version'], '2023-06-01');
  });

  it('Claude Code’s preconnect HEAD /api/hello and its telemetry batches are answered, without a key', async () => {
    const hello = await call(rig.url, '/api/hello', { method: 'HEAD', headers: { 'user-agent': claudeCodeHeaders()['user-agent']! } });
    assert.equal(hello.status, 200);
    const batch = await call(rig.url, '/api/event_logging/batch', { body: { events: [] } });
    assert.equal(batch.status, 200);
    assert.equal(rig.mock.requests.length, 0, 'nothing reaches the provider');
  });

  it('the upstream gets the deployment key, never the client’s gateway credential', async () => {
    rig.mock.enqueue({ sse: STREAM });
    await send('claude-code-first-turn.json');
    const h = rig.mock.requests[0]!.headers;
    assert.equal(h['x-api-key'], 'sk-ant-upstream');
    assert.equal(h.authorization, undefined);
    assert.ok(!JSON.stringify(h).includes(MASTER_KEY));
  });

  it('cline#5067: cache_control breakpoints reach the upstream (system, last prompt block, last tool result)', async () => {
    rig.mock.enqueue({ sse: STREAM }, { sse: STREAM });
    await send('claude-code-first-turn.json');
    await send('claude-code-tool-loop.json');
    const [first, loop] = rig.mock.requests.map((q) => q.json);
    assert.deepEqual(first.system.map((b: any) => b.cache_control?.type ?? null), [null, 'ephemeral', 'ephemeral']);
    assert.deepEqual(first.messages[0].content.at(-1).cache_control, { type: 'ephemeral' });
    assert.deepEqual(loop.messages.at(-1).content.at(-1).cache_control, { type: 'ephemeral' });
  });

  it('#24176 / claude-code#16785: usage and cache counts sit in message_start and message_delta, stop_reason in message_delta', async () => {
    rig.mock.enqueue({ sse: STREAM });
    const events = readEvents((await send('claude-code-first-turn.json')).text).map((e) => JSON.parse(e.data));
    const start = events.find((e) => e.type === 'message_start').message;
    assert.deepEqual(start.usage, { input_tokens: 12, cache_creation_input_tokens: 1836, cache_read_input_tokens: 20480, output_tokens: 2, service_tier: 'standard' });
    const delta = events.find((e) => e.type === 'message_delta');
    assert.equal(delta.delta.stop_reason, 'tool_use');
    assert.deepEqual(delta.usage, { input_tokens: 12, cache_creation_input_tokens: 1836, cache_read_input_tokens: 20480, output_tokens: 187 });
  });

  it('#38809: a signature-only thinking block survives both ways (history sent up, stream sent down)', async () => {
    rig.mock.enqueue({ sse: SIGNATURE_ONLY_STREAM });
    const body = Buffer.from(JSON.stringify(claudeCodeToolLoop({ signatureOnly: true })));
    const r = await call(rig.url, '/v1/messages?beta=true', { headers: claudeCodeHeaders(), body });
    const sentUp = rig.mock.requests[0]!.json.messages[1].content[0];
    assert.deepEqual(sentUp, { type: 'thinking', thinking: '', signature: SIGNATURE_ONLY });
    assert.deepEqual(anthropicTrace(r.text), [
      'message_start',
      'start 0 thinking',
      `delta 0 signature_delta ${SIGNATURE_ONLY}`,
      'stop 0',
      'start 1 tool_use toolu_01B7yjWq3xQqHw2pLz7Gm4Ka Read',
      'delta 1 input_json_delta {"file_path": "/work/app/src/util.ts"}',
      'stop 1',
      'message_delta tool_use',
      'message_stop',
    ]);
  });

  it('an upstream error answer reaches Claude Code in Anthropic’s error shape, with the provider’s status and message', async () => {
    rig.mock.enqueue({ json: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }, status: 529 });
    const r = await send('claude-code-first-turn.json');
    assert.equal(r.status, 529);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'overloaded_error');
    assert.match(r.json.error.message, /Overloaded/);
  });

  it('a stream cut upstream ends in an Anthropic error event, whether the cut falls between events or inside one', async () => {
    const text = STREAM.toString('latin1');
    const between = text.indexOf('event: content_block_start\ndata: {"type":"content_block_start","index":1');
    const events = readEvents(STREAM.toString('utf8'));
    const before = events.findIndex((e) => e.data.includes('"content_block_start","index":1'));
    // Inside the event: in the middle of its data line, and right after its event line.
    for (const cut of [between, between + 60, between + 27]) {
      rig.mock.enqueue({ sse: STREAM, dropAfterBytes: cut, chunkBytes: 16 });
      const r = await send('claude-code-tool-loop.json');
      assert.equal(r.status, 200);
      const got = parsedEvents(r.text);
      assert.deepEqual(got.slice(0, -1).map((e) => e.event), events.slice(0, before).map((e) => e.event), `cut at ${cut}: the whole events come through`);
      const last = got.at(-1)!;
      assert.equal(last.event, 'error', `cut at ${cut}: the stream ends in an error event`);
      assert.equal(last.json.type, 'error');
      assert.equal(last.json.error.type, 'api_error');
      assert.match(last.json.error.message, /could not complete the call/);
    }
  });
});

describe('Claude Code count_tokens against Anthropic-compatible deployments', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: ${MODEL}
    litellm_params: { model: anthropic/${MODEL}, api_base: ${url}, api_key: sk-ant-upstream }
  - model_name: vllm-claude
    litellm_params: { model: anthropic/qwen3-coder, api_base: ${url}/vllm, api_key: sk-vllm }
`,
  );

  const countBody = (model: string) => {
    const b = JSON.parse(agentBody('conformance/claude-code-first-turn.json').toString('utf8'));
    return { model, messages: b.messages, system: b.system, tools: b.tools };
  };

  it('#13252: count_tokens?beta=true answers with the provider’s count, never 404', async () => {
    rig.mock.enqueue({ json: { input_tokens: 14823 } });
    const r = await call(rig.url, '/v1/messages/count_tokens?beta=true', { headers: claudeCodeHeaders(), body: countBody(MODEL) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { input_tokens: 14823 });
    const seen = rig.mock.requests[0]!;
    assert.equal(seen.path, '/v1/messages/count_tokens');
    assert.equal(seen.headers['anthropic-beta'], claudeCodeHeaders()['anthropic-beta']);
    assert.equal(seen.headers['anthropic-version'], '2023-06-01');
    assert.equal(seen.headers['x-api-key'], 'sk-ant-upstream');
    assert.equal(seen.json.tools.length, 12);
  });

  it('#29764: count_tokens uses the configured api_base (path prefix included), not api.anthropic.com', async () => {
    rig.mock.enqueue({ json: { input_tokens: 377 } });
    const r = await call(rig.url, '/v1/messages/count_tokens?beta=true', { headers: claudeCodeHeaders(), body: countBody('vllm-claude') });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { input_tokens: 377 });
    assert.equal(rig.mock.requests.length, 1, 'the configured server was asked');
    assert.equal(rig.mock.requests[0]!.path, '/vllm/v1/messages/count_tokens');
    assert.equal(rig.mock.requests[0]!.headers['x-api-key'], 'sk-vllm');
    assert.equal(rig.mock.requests[0]!.json.model, 'qwen3-coder');
  });
});

describe('Claude Code with ANTHROPIC_BASE_URL=<gateway>/anthropic (provider pass-through route)', () => {
  const rig = gatewayRig(
    () => '',
    (url) => ({ ANTHROPIC_API_BASE: url, ANTHROPIC_API_KEY: 'sk-ant-env' }),
  );

  it('the request (query and headers included) and the stream pass untouched; the credential is the provider’s', async () => {
    const sent = agentBody('conformance/claude-code-tool-loop.json');
    rig.mock.enqueue({ sse: STREAM, chunkBytes: 5 });
    const r = await call(rig.url, '/anthropic/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: sent });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, STREAM.toString('utf8'));
    const seen = rig.mock.requests[0]!;
    assert.equal(seen.path, '/v1/messages');
    assert.equal(seen.query, 'beta=true');
    assert.ok(seen.body.equals(sent));
    assert.equal(seen.headers['anthropic-beta'], claudeCodeHeaders()['anthropic-beta']);
    assert.equal(seen.headers['x-claude-code-session-id'], claudeCodeHeaders()['x-claude-code-session-id']);
    assert.equal(seen.headers['x-api-key'], 'sk-ant-env');
    assert.equal(seen.headers.authorization, undefined);
  });

  it('a stream cut upstream ends in an Anthropic error event there too', async () => {
    const cut = STREAM.indexOf('"index":2') + 10; // inside the event that starts the tool_use block
    rig.mock.enqueue({ sse: STREAM, chunkBytes: 16, dropAfterBytes: cut });
    const r = await call(rig.url, '/anthropic/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: agentBody('conformance/claude-code-first-turn.json') });
    assert.equal(r.status, 200);
    const events = parsedEvents(r.text);
    assert.equal(events.at(-1)!.event, 'error');
    assert.equal(events.at(-1)!.json.error.type, 'api_error');
    assert.equal(events.length, readEvents(STREAM.subarray(0, cut).toString('utf8')).length + 1);
    // The gateway is still serving.
    rig.mock.enqueue({ sse: STREAM });
    assert.equal((await call(rig.url, '/anthropic/v1/messages', { headers: claudeCodeHeaders(), body: agentBody('conformance/claude-code-first-turn.json') })).text, STREAM.toString('utf8'));
  });
});
