// Requests whose deployment speaks the other dialect go through translation: /v1/messages to an
// OpenAI-dialect upstream and /v1/chat/completions to an Anthropic one, streaming and not; and
// count_tokens answers for both kinds of deployment. A Claude-Code-sized body takes the raw-body
// translation (gateway/raw-translation.ts) and must reach the upstream as the parsed one would.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { claudeCodeBody } from '../../native-bench/bodies';
import { anthropicToOpenAIChat, estimateTokens } from '../../src/translate';
import { anthropicToOpenAIChatRaw, TOO_DEEP } from '../../src/gateway/raw-translation';

/** Claude Code 2.1.332's request with mid-conversation system messages (trimmed from a real one). */
const MID_CONVERSATION_SYSTEM = fs.readFileSync(path.resolve(__dirname, '../../../test/fixtures/translate/claude-code-mid-conversation-system.json'));

describe('translation through the gateway', () => {
  let mock: MockUpstream;
  let gw: GatewayProcess;

  before(async () => {
    mock = await startMockUpstream();
    gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o, api_base: ${mock.url}/v1, api_key: sk-up }
  - model_name: claude
    litellm_params: { model: anthropic/claude-up, api_base: ${mock.url}, api_key: sk-ant-up }
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
  });

  it('serves /v1/messages from an OpenAI-dialect deployment', async () => {
    mock.reset();
    const r = await call(gw.url, '/v1/messages', {
      headers: { 'anthropic-beta': 'fine-grained-tool-streaming-2025-05-14' },
      body: { model: 'gpt', max_tokens: 64, system: [{ type: 'text', text: 'be brief' }], messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.type, 'message');
    assert.equal(r.json.model, 'gpt');
    assert.equal(r.json.stop_reason, 'end_turn');
    assert.equal(r.json.content[0].text, 'Hello from mock');
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.equal(seen.json.model, 'gpt-4o');
    assert.deepEqual(seen.json.messages[0], { role: 'system', content: 'be brief' });
    assert.equal(seen.headers['anthropic-beta'], undefined, 'beta headers are not sent to a non-Anthropic upstream');
  });

  it('streams /v1/messages from an OpenAI-dialect deployment event by event', async () => {
    const r = await call(gw.url, '/v1/messages', { body: { model: 'gpt', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] } });
    assert.equal(r.status, 200);
    const events = parseSse(r.text);
    assert.equal(events[0]!.event, 'message_start');
    assert.equal(events.at(-1)!.event, 'message_stop');
    const deltas = events.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text);
    assert.equal(deltas.join(''), 'tok0 tok1 tok2 tok3 tok4 tok5 tok6 tok7 ');
    const md = JSON.parse(events.find((e) => e.event === 'message_delta')!.data);
    assert.equal(md.delta.stop_reason, 'end_turn');
    assert.ok(md.usage.output_tokens > 0);
    assert.equal(mock.requests.at(-1)!.json.stream_options.include_usage, true);
  });

  it('translates a Claude-Code-sized body (its long strings spliced as bytes) into the same chat request as a parse would', async () => {
    mock.reset();
    const body = claudeCodeBody({ stream: true }) as Record<string, unknown>;
    const r = await call(gw.url, '/v1/messages', { body: { ...body, model: 'gpt' } });
    assert.equal(r.status, 200, r.text);
    const events = parseSse(r.text);
    assert.equal(events.at(-1)!.event, 'message_stop');
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.deepEqual(seen.json, anthropicToOpenAIChat({ ...body, model: 'gpt' }, { model: 'gpt-4o' }).body);
    const start = JSON.parse(events[0]!.data);
    assert.equal(start.message.usage.input_tokens, estimateTokens(body), 'the input estimate counts the real strings');
  });

  it('a growing Claude Code session: every call reaches the upstream byte for byte as the uncached translation writes it', async () => {
    // One worker: from the second call on, the history comes from its translation cache
    // (gateway/translation-cache.ts); the upstream must not be able to tell.
    const base = claudeCodeBody({ stream: true }) as Record<string, unknown> & { messages: Record<string, unknown>[] };
    for (let turns = 20; turns <= 24; turns++) {
      mock.reset();
      const messages = base.messages.slice(0, 1 + 2 * turns);
      const last = messages[messages.length - 1]!;
      const blocks = (last.content as Record<string, unknown>[]).slice();
      blocks[blocks.length - 1] = { ...blocks[blocks.length - 1]!, cache_control: { type: 'ephemeral' } };
      messages[messages.length - 1] = { ...last, content: blocks };
      const raw = Buffer.from(JSON.stringify({ ...base, model: 'gpt', messages }));
      const r = await call(gw.url, '/v1/messages', { body: raw });
      assert.equal(r.status, 200, r.text);
      assert.equal(parseSse(r.text).at(-1)!.event, 'message_stop');
      const want = anthropicToOpenAIChatRaw(raw, { model: 'gpt-4o' });
      assert.ok(want && want !== TOO_DEEP);
      assert.ok(mock.requests.at(-1)!.body.equals(want.body), `call with ${turns} turns: the upstream body differs from the uncached translation`);
    }
  });

  it('serves /v1/chat/completions from an Anthropic deployment, streaming and not', async () => {
    const r = await call(gw.url, '/v1/chat/completions', { body: { model: 'claude', messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'hi' }] } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(r.json.choices[0].message.content, 'Hello from mock');
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.path, '/v1/messages');
    assert.equal(seen.headers['x-api-key'], 'sk-ant-up');
    assert.equal(seen.json.max_tokens, 4096);
    const s = await call(gw.url, '/v1/chat/completions', { body: { model: 'claude', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] } });
    const chunks = parseSse(s.text);
    assert.equal(chunks.at(-1)!.data, '[DONE]');
    const usage = chunks.map((c) => (c.data.startsWith('{') ? JSON.parse(c.data) : null)).find((c) => c?.usage);
    assert.ok(usage.usage.completion_tokens > 0, 'usage chunk when the client asked for it');
  });

  it('Claude Code mid-conversation system messages: chat system messages in place for an OpenAI-dialect deployment, byte for byte to an Anthropic one', async () => {
    const src = JSON.parse(MID_CONVERSATION_SYSTEM.toString('utf8'));
    const headers = { 'anthropic-beta': 'claude-code-20250219,mid-conversation-system-2026-04-07' };
    mock.reset();
    const r = await call(gw.url, '/v1/messages?beta=true', { headers, body: { ...src, model: 'gpt' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(parseSse(r.text).at(-1)!.event, 'message_stop');
    const seen = mock.requests.at(-1)!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.deepEqual(seen.json.messages.map((m: { role: string }) => m.role), ['system', 'user', 'system', 'assistant', 'tool', 'system', 'assistant', 'tool', 'system']);
    assert.equal(seen.json.messages[2].content, src.messages[1].content);

    // An Anthropic deployment takes the body as the client sent it (only the model spliced).
    const raw = Buffer.from(MID_CONVERSATION_SYSTEM.toString('utf8').replace('"model": "claude-sonnet-4-5"', '"model": "claude"'));
    const p = await call(gw.url, '/v1/messages?beta=true', { headers, body: raw });
    assert.equal(p.status, 200, p.text);
    const passed = mock.requests.at(-1)!;
    assert.equal(passed.path, '/v1/messages');
    assert.ok(passed.body.equals(Buffer.from(raw.toString('utf8').replace('"model": "claude"', '"model": "claude-up"'))), 'byte for byte');
    assert.equal(passed.headers['anthropic-beta'], headers['anthropic-beta']);
  });

  it('answers a request the other API cannot express with a 400 in the client dialect', async () => {
    const r = await call(gw.url, '/v1/messages', {
      body: { model: 'gpt', max_tokens: 10, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }] }, { role: 'user', content: 'no result' }] },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
  });

  it('ends a translated stream cut upstream with an error event', async () => {
    // The translator drops unknown fields, so the fault is queued on the mock.
    mock.enqueue({ deltas: 6, dropAfterDeltas: 2 });
    const r = await call(gw.url, '/v1/messages', { body: { model: 'gpt', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] } });
    const events = parseSse(r.text);
    assert.equal(events.at(-1)!.event, 'error');
  });

  it('count_tokens answers for Anthropic deployments through the upstream and for others by estimate', async () => {
    const body = { model: 'claude', messages: [{ role: 'user', content: 'hello there' }] };
    const a = await call(gw.url, '/v1/messages/count_tokens?beta=true', { body });
    assert.equal(a.status, 200, a.text);
    assert.equal(typeof a.json.input_tokens, 'number');
    assert.equal(mock.requests.at(-1)!.path, '/v1/messages/count_tokens');
    const o = await call(gw.url, '/v1/messages/count_tokens', { body: { ...body, model: 'gpt' } });
    assert.equal(o.status, 200);
    assert.ok(o.json.input_tokens > 0);
    const bad = await call(gw.url, '/v1/messages/count_tokens', { body: { model: 'nope', messages: [] } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.type, 'error');
  });
});
