// Claude Code's wire contract against an OpenAI-dialect deployment (issue 5): the recorded Claude
// Code turns are translated to chat completions, and recorded OpenAI-compatible streams (replayed
// whole and in pieces that split events, lines and UTF-8) come back as Anthropic events. The
// tests named after LiteLLM issues reproduce the bridge bugs Claude Code users hit there.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { estimateTokens } from '../../src/translate';
import { call } from '../support/http';
import { accumulateAnthropic } from '../unit/translate-helpers';
import { agentBody, anthropicTrace, claudeCodeHeaders, claudeCodeToolLoop, fixture, fixtureJson, gatewayRig, parsedEvents, PIECES, SIGNATURE_ONLY } from './conformance-helpers';

const MODEL = 'claude-sonnet-4-5-20250929';
const STREAM = fixture('conformance/openai-stream-claude-code.sse');

/** What the translator makes of the Claude Code stream: the whole sequence, in order. */
const EXPECTED_TRACE = [
  'message_start',
  'start 0 thinking',
  'delta 0 thinking_delta The import names `sum`, ',
  'delta 0 thinking_delta util.ts exports `add` — größer Fehler.',
  'stop 0',
  'start 1 text',
  'delta 1 text_delta Die Funktion heißt `add`',
  'delta 1 text_delta  — ich prüfe beide Dateien ✓ 🚀',
  'stop 1',
  'start 2 tool_use call_BashR8nQ2xT5 Bash',
  'delta 2 input_json_delta {"comm',
  'delta 2 input_json_delta and": "grep -rn \\"sum(\\" src", "descr',
  'delta 2 input_json_delta iption": "Find uses of sum — ✓"}',
  'stop 2',
  'start 3 tool_use call_ReadV3mK7pL1 Read',
  'delta 3 input_json_delta {"file_path":',
  'delta 3 input_json_delta  "/work/app/src/util.ts"}',
  'stop 3',
  'message_delta tool_use',
  'message_stop',
];

describe('Claude Code → OpenAI-dialect deployment (translated)', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: ${MODEL}
    litellm_params: { model: openai/qwen3-coder-480b, api_base: ${url}/v1, api_key: sk-oa-upstream }
`,
  );

  const send = (fixtureName = 'claude-code-first-turn.json') =>
    call(rig.url, '/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: agentBody(`conformance/${fixtureName}`) });

  /** The recorded stream through the gateway, its bytes cut into pieces of `chunkBytes`. */
  async function replay(sse: Buffer, chunkBytes?: number, fixtureName?: string): Promise<string> {
    rig.mock.enqueue({ sse, chunkBytes });
    const r = await send(fixtureName);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'text/event-stream');
    return r.text;
  }

  it('the first turn reaches the upstream as the chat request it means', async () => {
    const cc = fixtureJson('conformance/claude-code-first-turn.json');
    await replay(STREAM);
    const seen = rig.mock.requests[0]!;
    assert.equal(seen.path, '/v1/chat/completions');
    assert.deepEqual(seen.json, {
      model: 'qwen3-coder-480b',
      messages: [
        { role: 'system', content: cc.system.map((b: any) => b.text).join('\n\n') },
        { role: 'user', content: cc.messages[0].content.map((b: any) => ({ type: 'text', text: b.text })) },
      ],
      max_tokens: 32000,
      // Claude Code's user_id is ~150 characters of JSON; OpenAI takes 64: its SHA-256 goes instead.
      user: createHash('sha256').update(cc.metadata.user_id).digest('hex'),
      tools: cc.tools.map((t: any) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } })),
      // thinking {type: adaptive} takes its effort from output_config.
      reasoning_effort: 'high',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('#9016/#36736: anthropic-beta and anthropic-version are not sent to a non-Anthropic upstream; its own key is', async () => {
    await replay(STREAM);
    const h = rig.mock.requests[0]!.headers;
    assert.equal(h['anthropic-beta'], undefined);
    assert.equal(h['anthropic-version'], undefined);
    assert.equal(h.authorization, 'Bearer sk-oa-upstream');
    assert.equal(h['x-api-key'], undefined);
  });

  it('#13252: count_tokens?beta=true answers for a non-Anthropic deployment too (a local estimate, never 404)', async () => {
    const cc = fixtureJson('conformance/claude-code-first-turn.json');
    const body = { model: MODEL, messages: cc.messages, system: cc.system, tools: cc.tools };
    const r = await call(rig.url, '/v1/messages/count_tokens?beta=true', { headers: claudeCodeHeaders(), body });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { input_tokens: estimateTokens(body) });
    assert.ok(r.json.input_tokens > 1000);
    assert.equal(rig.mock.requests.length, 0, 'an OpenAI upstream has no count_tokens to ask');
  });

  it('a tool-loop turn: tool_use and tool_result become tool_calls and tool messages with their ids kept', async () => {
    await replay(STREAM, undefined, 'claude-code-tool-loop.json');
    const cc = fixtureJson('conformance/claude-code-tool-loop.json');
    const use = cc.messages[1].content[0];
    const bash = { id: use.id, type: 'function', function: { name: 'Bash', arguments: JSON.stringify(use.input) } };
    assert.deepEqual(rig.mock.requests[0]!.json.messages.slice(2), [
      { role: 'assistant', content: null, tool_calls: [bash] },
      { role: 'tool', tool_call_id: use.id, content: cc.messages[2].content[0].content },
    ]);
    // The same turn after a failed command, whose answer began with a signature-only thinking block.
    rig.mock.enqueue({ sse: STREAM });
    const variant = claudeCodeToolLoop({ signatureOnly: true, failed: true });
    const r = await call(rig.url, '/v1/messages?beta=true', { headers: claudeCodeHeaders(), body: Buffer.from(JSON.stringify(variant)) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(rig.mock.requests[1]!.json.messages.slice(2), [
      // The signature-only thinking block cannot be replayed to an OpenAI model: dropped, the call kept.
      { role: 'assistant', content: null, tool_calls: [bash] },
      { role: 'tool', tool_call_id: use.id, content: `Error: ${cc.messages[2].content[0].content}` },
    ]);
  });

  it('the stream comes back event by event in Anthropic’s order, however the upstream bytes are cut', async () => {
    for (const chunkBytes of PIECES) {
      const text = await replay(STREAM, chunkBytes);
      assert.deepEqual(anthropicTrace(text), EXPECTED_TRACE, `pieces of ${chunkBytes ?? 'all'} bytes`);
      accumulateAnthropic(text); // the SDK's own protocol checks
    }
  });

  it('#25321: tool_use input survives streaming from a non-Anthropic model', async () => {
    const { message } = accumulateAnthropic(await replay(STREAM, 5));
    assert.deepEqual(message.content.slice(2).map((b: any) => [b.type, b.id, b.name, b.input]), [
      ['tool_use', 'call_BashR8nQ2xT5', 'Bash', { command: 'grep -rn "sum(" src', description: 'Find uses of sum — ✓' }],
      ['tool_use', 'call_ReadV3mK7pL1', 'Read', { file_path: '/work/app/src/util.ts' }],
    ]);
  });

  it('#29286: tool arguments arrive as input_json_delta, never as text_delta or empty', async () => {
    const events = parsedEvents(await replay(STREAM, 1)).map((e) => e.json);
    const toolBlocks = new Set(events.filter((e) => e.type === 'content_block_start' && e.content_block.type === 'tool_use').map((e) => e.index));
    assert.deepEqual([...toolBlocks], [2, 3]);
    for (const e of events.filter((x) => x.type === 'content_block_delta')) {
      if (toolBlocks.has(e.index)) {
        assert.equal(e.delta.type, 'input_json_delta');
        assert.ok(e.delta.partial_json.length > 0, 'no empty input_json_delta');
      } else assert.ok(!/file_path|"command"/.test(e.delta.text ?? e.delta.thinking ?? ''), 'no arguments leak into text');
    }
    const args = (i: number) => events.filter((e) => e.type === 'content_block_delta' && e.index === i).map((e) => e.delta.partial_json).join('');
    assert.equal(args(2), '{"command": "grep -rn \\"sum(\\" src", "description": "Find uses of sum — ✓"}', 'exactly the upstream’s argument string');
    assert.equal(args(3), '{"file_path": "/work/app/src/util.ts"}');
  });

  it('#34692: stop_reason is tool_use when the model called tools (even when it said finish_reason stop)', async () => {
    const said = accumulateAnthropic(await replay(STREAM)).message;
    assert.equal(said.stop_reason, 'tool_use');
    // A recorded upstream that answers `stop` after its tool calls.
    const stopped = accumulateAnthropic(await replay(fixture('translate/openai-stream-stop-after-tools.sse'), 7)).message;
    assert.equal(stopped.stop_reason, 'tool_use');
    assert.deepEqual(stopped.content.at(-1).input, { command: 'npm test', description: 'Run the tests' });
  });

  it('#30765: the first text_delta after thinking is kept', async () => {
    // Recorded: the last reasoning fragment and the first text fragment arrive in one chunk.
    const trace = anthropicTrace(await replay(fixture('translate/openai-stream-reasoning-tools.sse'), 3));
    const text = trace.filter((l) => l.startsWith('delta 1 text_delta'));
    assert.deepEqual(text, ['delta 1 text_delta Let me', 'delta 1 text_delta  look at', 'delta 1 text_delta  the files.']);
    assert.equal(trace[trace.indexOf('stop 0') + 1], 'start 1 text', 'the text block follows the thinking block at once');
    assert.equal(anthropicTrace(await replay(STREAM, 1))[6], 'delta 1 text_delta Die Funktion heißt `add`');
  });

  it('#13373: every content_block_delta refers to a started block', async () => {
    for (const sse of [STREAM, fixture('translate/openai-stream-reasoning-tools.sse'), fixture('translate/openai-stream-stop-after-tools.sse'), fixture('translate/openai-stream-text-crlf.sse')]) {
      for (const chunkBytes of PIECES) {
        let open = -1;
        for (const { json: e } of parsedEvents(await replay(sse, chunkBytes))) {
          if (e.type === 'content_block_start') {
            assert.equal(open, -1, 'one block open at a time');
            open = e.index;
          } else if (e.type === 'content_block_delta') assert.equal(e.index, open, `delta for block ${e.index}: Content block not found`);
          else if (e.type === 'content_block_stop') {
            assert.equal(e.index, open);
            open = -1;
          }
        }
      }
    }
  });

  it('#24176: usage sits in message_start and message_delta as Claude Code reads it', async () => {
    const events = parsedEvents(await replay(STREAM, 64)).map((e) => e.json);
    const start = events[0];
    assert.equal(start.type, 'message_start');
    // OpenAI reports usage only at the end: message_start carries the request's estimate.
    assert.deepEqual(start.message.usage, {
      input_tokens: estimateTokens(fixtureJson('conformance/claude-code-first-turn.json')),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 0,
    });
    assert.ok(start.message.usage.input_tokens > 1000);
    // message_delta: the upstream's counts, the cached prompt split out as Anthropic counts it.
    const delta = events.at(-2);
    assert.equal(delta.type, 'message_delta');
    assert.deepEqual(delta.usage, { input_tokens: 22328 - 20480, cache_creation_input_tokens: 0, cache_read_input_tokens: 20480, output_tokens: 143 });
  });

  it('claude-code#16785: stop_reason is in message_delta', async () => {
    const events = parsedEvents(await replay(STREAM)).map((e) => e.json);
    assert.equal(events[0].message.stop_reason, null);
    assert.deepEqual(events.at(-2).delta, { stop_reason: 'tool_use', stop_sequence: null });
    assert.deepEqual(events.at(-1), { type: 'message_stop' });
  });

  it('#38809: signature-only thinking blocks are kept (a LiteLLM upstream relaying Bedrock adaptive thinking)', async () => {
    const text = await replay(fixture('conformance/openai-stream-signature-only.sse'), 5);
    assert.deepEqual(anthropicTrace(text), [
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
    const { message } = accumulateAnthropic(text);
    assert.deepEqual(message.content[0], { type: 'thinking', thinking: '', signature: SIGNATURE_ONLY });
    assert.equal(message.usage.cache_read_input_tokens, 22316);
  });

  it('a stream cut upstream ends in an Anthropic error event, the blocks before it well-formed', async () => {
    const cut = STREAM.indexOf('call_ReadV3mK7pL1') - 20; // inside the chunk that starts the second call
    rig.mock.enqueue({ sse: STREAM, chunkBytes: 9, dropAfterBytes: cut });
    const r = await send();
    const { message, error } = accumulateAnthropic(r.text);
    assert.equal(error?.type, 'api_error');
    assert.match(error!.message, /could not complete the call/);
    assert.deepEqual(message.content.map((b: any) => b.type), ['thinking', 'text', 'tool_use']);
    assert.equal(anthropicTrace(r.text).at(-1), 'error api_error');
  });

  it('an upstream error answer reaches Claude Code as an Anthropic error with the same status', async () => {
    rig.mock.enqueue({ status: 429, json: { error: { message: 'Rate limit reached for qwen3-coder-480b', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } }, headers: { 'retry-after': '7' } });
    const r = await send();
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '7');
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'rate_limit_error');
    assert.match(r.json.error.message, /Rate limit reached/);
  });
});
