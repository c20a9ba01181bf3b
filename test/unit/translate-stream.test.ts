// Stream translation: the SSE parser, both state machines on recorded-style upstream streams in
// every chunking, and one named test per translation pain point of LiteLLM's /v1/messages bridge.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, OpenAIToAnthropicStream, AnthropicToOpenAIStream, type ToAnthropicContext, type ToOpenAIContext } from '../../src/translate';
import { accumulateAnthropic, accumulateOpenAI, chunkings, fixtureBytes, readSse, runStream } from './translate-helpers';

const CTX: ToAnthropicContext = { model: 'claude-sonnet-4-5', estimatedInputTokens: 5000 };
const OCTX: ToOpenAIContext = { model: 'gpt-5-codex', includeUsage: true, created: 1700000000 };

/** OpenAI chunk SSE from deltas: each item is a delta, or [delta, finish_reason], or {usage}. */
function openAIStream(items: unknown[], done = true): string {
  let s = '';
  for (const it of items) {
    let c: Record<string, unknown>;
    if (Array.isArray(it)) c = { id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: it[0], finish_reason: it[1] }] };
    else if (it !== null && typeof it === 'object' && 'usage' in it) c = { id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [], usage: (it as any).usage };
    else c = { id: 'chatcmpl-x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: it, finish_reason: null }] };
    s += `data: ${JSON.stringify(c)}\n\n`;
  }
  return done ? s + 'data: [DONE]\n\n' : s;
}

const toAnthropic = (sse: string | Buffer, ctx: ToAnthropicContext = CTX) => runStream(new OpenAIToAnthropicStream(ctx), [sse]);
const toOpenAI = (sse: string | Buffer, ctx: ToOpenAIContext = OCTX) => runStream(new AnthropicToOpenAIStream(ctx), [sse]);

function anthropicEvents(events: [string, Record<string, unknown>][]): string {
  return events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify({ type: e, ...d })}\n\n`).join('');
}
const MSG_START: [string, Record<string, unknown>] = ['message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } }];

describe('SseParser', () => {
  function collect(chunks: (string | Buffer)[], end = true): [string, string][] {
    const out: [string, string][] = [];
    const p = new SseParser((e, d) => out.push([e, d]));
    for (const c of chunks) p.push(c);
    if (end) p.end();
    return out;
  }
  const text = 'event: a\ndata: 1\n\n: heartbeat\n\ndata: 2\ndata: 3\n\nevent: b\nid: 7\nretry: 100\ndata:4\n\n';
  const want: [string, string][] = [['a', '1'], ['', '2\n3'], ['b', '4']];

  test('several events in one chunk; comments, id and retry ignored; multi-line data joined', () => {
    assert.deepEqual(collect([text]), want);
  });

  test('the same events split at every possible point', () => {
    for (let i = 0; i <= text.length; i++) assert.deepEqual(collect([text.slice(0, i), text.slice(i)]), want, `split at ${i}`);
  });

  test('\\r\\n and bare \\r line endings, also with \\r and \\n in different chunks', () => {
    const crlf = text.replace(/\n/g, '\r\n');
    for (let i = 0; i <= crlf.length; i++) assert.deepEqual(collect([crlf.slice(0, i), crlf.slice(i)]), want, `CRLF split at ${i}`);
    assert.deepEqual(collect([text.replace(/\n/g, '\r')]), want);
  });

  test('UTF-8 characters split across byte chunks', () => {
    const buf = Buffer.from('data: {"t":"wörld ✓ 🎉"}\n\n');
    for (let i = 0; i <= buf.length; i++) assert.deepEqual(collect([buf.subarray(0, i), buf.subarray(i)]), [['', '{"t":"wörld ✓ 🎉"}']], `split at byte ${i}`);
  });

  test('an event without its blank line is delivered by end(), not before', () => {
    assert.deepEqual(collect(['data: last'], false), []);
    assert.deepEqual(collect(['data: last']), [['', 'last']]);
    assert.deepEqual(collect(['data: last\n']), [['', 'last']]);
  });

  test('fields that only start with "data" or "event" are ignored; an empty data line still makes an event', () => {
    assert.deepEqual(collect(['database: x\neventually: y\ndata\n\n']), [['', '']]);
  });
});

describe('OpenAI → Anthropic stream: recorded-style upstreams', () => {
  test('reasoning, text and two parallel tool calls (DeepSeek/vLLM-style stream)', () => {
    const out = toAnthropic(fixtureBytes('openai-stream-reasoning-tools.sse'));
    const { message } = accumulateAnthropic(out);
    assert.deepEqual(message, {
      id: 'msg_B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: "The build fails because `sum` is not exported. I'll check both files.", signature: '' },
        { type: 'text', text: 'Let me look at the files.' },
        { type: 'tool_use', id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'Read', input: { file_path: '/work/app/src/util.ts' } },
        { type: 'tool_use', id: 'call_ABJ0QSxyeZNHoSg3QbD9mtEQ', name: 'Grep', input: { pattern: 'sum\\(', '-n': true } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 5230 - 4096, cache_creation_input_tokens: 0, cache_read_input_tokens: 4096, output_tokens: 96 },
    });
  });

  test('Gemini-style: whole tool call in one chunk, `stop` after tools, usage in the finish chunk, no [DONE]', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    const body = t.push(fixtureBytes('openai-stream-stop-after-tools.sse'));
    assert.ok(!body.includes('message_delta'), 'message_delta waits for [DONE] or end()');
    const { message } = accumulateAnthropic(body + t.end());
    assert.deepEqual(message.content, [
      { type: 'text', text: "I'll run it." },
      { type: 'tool_use', id: 'functions_Bash_0', name: 'Bash', input: { command: 'npm test', description: 'Run the tests' } },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
    assert.deepEqual(message.usage, { input_tokens: 812, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 31 });
  });

  test('text over \\r\\n with multi-byte characters (OpenAI-style stream)', () => {
    const { message } = accumulateAnthropic(toAnthropic(fixtureBytes('openai-stream-text-crlf.sse')));
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hello, wörld — ünïcode ✓ 🎉 done.' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.output_tokens, 9);
  });

  for (const name of ['openai-stream-reasoning-tools.sse', 'openai-stream-stop-after-tools.sse', 'openai-stream-text-crlf.sse']) {
    test(`${name}: every chunking gives byte-identical output`, () => {
      const buf = fixtureBytes(name);
      const ctx = { ...CTX, messageId: 'msg_fixed' };
      const ref = runStream(new OpenAIToAnthropicStream(ctx), [buf]);
      accumulateAnthropic(ref);
      for (const c of chunkings(buf)) assert.equal(runStream(new OpenAIToAnthropicStream(ctx), c.chunks), ref, c.name);
    });
  }

  test('events go out as soon as their upstream chunk is complete', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    const first = t.push('data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}\n\n');
    assert.deepEqual(readSse(first).map((e) => e.event), ['message_start', 'content_block_start', 'content_block_delta']);
    assert.equal(t.push('data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":" there"'), '', 'half a chunk: nothing yet');
    assert.deepEqual(readSse(t.push('}}]}\n\n')).map((e) => e.event), ['content_block_delta']);
  });
});

describe('OpenAI → Anthropic stream: the pain points of LiteLLM #25321 and family, each a test', () => {
  test('tool input arrives in input_json_delta, never empty (LiteLLM #25321, #25561, #29491)', () => {
    const out = toAnthropic(fixtureBytes('openai-stream-reasoning-tools.sse'));
    const events = accumulateAnthropic(out).events;
    const starts = events.filter((e) => e.type === 'content_block_start' && e.content_block.type === 'tool_use');
    assert.equal(starts.length, 2);
    for (const s of starts) {
      assert.deepEqual(s.content_block.input, {}, 'input starts empty, as Anthropic streams it');
      const parts = events.filter((e) => e.type === 'content_block_delta' && e.index === s.index).map((e) => e.delta);
      assert.ok(parts.length >= 3, 'fragments are passed on as they arrive, not buffered');
      for (const p of parts) {
        assert.equal(p.type, 'input_json_delta');
        assert.ok(p.partial_json.length > 0);
      }
    }
  });

  test('a tool call that gets no arguments at all still gets an input ("{}")', () => {
    const sse = openAIStream([{ role: 'assistant' }, { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'TodoRead', arguments: '' } }] }, [{}, 'tool_calls']]);
    const { message, events } = accumulateAnthropic(toAnthropic(sse));
    assert.deepEqual(message.content, [{ type: 'tool_use', id: 'call_1', name: 'TodoRead', input: {} }]);
    assert.deepEqual(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta), [{ type: 'input_json_delta', partial_json: '{}' }]);
  });

  test('text goes out as text_delta, never as input_json_delta (LiteLLM #29286)', () => {
    const out = toAnthropic(fixtureBytes('openai-stream-reasoning-tools.sse'));
    const { message, events } = accumulateAnthropic(out);
    const textIndex = message.content.findIndex((b: any) => b.type === 'text');
    const deltas = events.filter((e) => e.type === 'content_block_delta' && e.index === textIndex);
    assert.ok(deltas.length >= 3);
    assert.ok(deltas.every((e) => e.delta.type === 'text_delta'));
  });

  test('first text after thinking is kept (LiteLLM #30765)', () => {
    // The fixture carries the last reasoning fragment and the first text fragment in one chunk.
    const { message } = accumulateAnthropic(toAnthropic(fixtureBytes('openai-stream-reasoning-tools.sse')));
    assert.equal(message.content[1].text, 'Let me look at the files.');
    const single = openAIStream([{ role: 'assistant', reasoning_content: 'think' }, { content: 'A' }, { content: 'B' }, [{}, 'stop']]);
    assert.deepEqual(accumulateAnthropic(toAnthropic(single)).message.content, [
      { type: 'thinking', thinking: 'think', signature: '' },
      { type: 'text', text: 'AB' },
    ]);
  });

  test('stop_reason is tool_use when tools were called (LiteLLM #34692)', () => {
    for (const fr of ['stop', 'tool_calls', 'function_call', null]) {
      const sse = openAIStream([{ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] }, ...(fr ? [[{}, fr]] : [])]);
      assert.equal(accumulateAnthropic(toAnthropic(sse)).message.stop_reason, 'tool_use', String(fr));
    }
    const cut = openAIStream([{ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] }, [{}, 'length']]);
    assert.equal(accumulateAnthropic(toAnthropic(cut)).message.stop_reason, 'max_tokens', 'a cut tool input is reported as such');
  });

  test('stop_reason is parsed from message_delta (anthropics/claude-code #16785)', () => {
    const events = accumulateAnthropic(toAnthropic(fixtureBytes('openai-stream-text-crlf.sse'))).events;
    const md = events.find((e) => e.type === 'message_delta')!;
    assert.deepEqual(md.delta, { stop_reason: 'end_turn', stop_sequence: null });
    const start = events[0]!;
    assert.equal(start.message.stop_reason, null);
  });

  test('usage lands in message_start/message_delta as Claude Code reads it (LiteLLM #24176)', () => {
    const events = accumulateAnthropic(toAnthropic(fixtureBytes('openai-stream-reasoning-tools.sse'))).events;
    assert.deepEqual(events[0]!.message.usage, { input_tokens: 5000, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 }, 'message_start: the estimate');
    const md = events.find((e) => e.type === 'message_delta')!;
    assert.deepEqual(md.usage, { input_tokens: 1134, cache_creation_input_tokens: 0, cache_read_input_tokens: 4096, output_tokens: 96 }, 'message_delta: the real counts');
    assert.deepEqual(events[events.length - 1], { type: 'message_stop' }, 'message_stop: no usage');
    // An upstream whose first chunk already has usage (vLLM continuous usage stats): message_start says so.
    const early = openAIStream([{ role: 'assistant', content: 'x' }, [{}, 'stop']]).replace('"choices":[{"index":0,"delta":{"role"', '"usage":{"prompt_tokens":77,"completion_tokens":0},"choices":[{"index":0,"delta":{"role"');
    assert.equal(accumulateAnthropic(toAnthropic(early)).events[0]!.message.usage.input_tokens, 77);
  });

  test('cache writes reported by a LiteLLM upstream reach cache_creation_input_tokens', () => {
    const sse = openAIStream([{ content: 'x' }, [{}, 'stop'], { usage: { prompt_tokens: 3000, completion_tokens: 4, cache_creation_input_tokens: 2000, prompt_tokens_details: { cached_tokens: 500 } } }]);
    assert.deepEqual(accumulateAnthropic(toAnthropic(sse)).message.usage, { input_tokens: 500, cache_creation_input_tokens: 2000, cache_read_input_tokens: 500, output_tokens: 4 });
  });

  test('signature-only thinking blocks survive (LiteLLM PR #38809)', () => {
    const sse = openAIStream([
      { role: 'assistant', thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM-sig' }] },
      { content: 'Done.' },
      [{}, 'stop'],
    ]);
    const { message, events } = accumulateAnthropic(toAnthropic(sse));
    assert.deepEqual(message.content, [
      { type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM-sig' },
      { type: 'text', text: 'Done.' },
    ]);
    assert.ok(events.some((e) => e.type === 'content_block_delta' && e.delta.type === 'signature_delta'));
  });

  test('a LiteLLM upstream: reasoning_content with thinking_blocks is not doubled, its signature closes the block', () => {
    const sse = openAIStream([
      { reasoning_content: 'Step one. ', thinking_blocks: [{ type: 'thinking', thinking: 'Step one. ' }] },
      { reasoning_content: 'Step two.', thinking_blocks: [{ type: 'thinking', thinking: 'Step two.' }] },
      { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'sig-A' }] },
      { thinking_blocks: [{ type: 'redacted_thinking', data: 'opaque' }] },
      { content: 'Answer.' },
      [{}, 'stop'],
    ]);
    assert.deepEqual(accumulateAnthropic(toAnthropic(sse)).message.content, [
      { type: 'thinking', thinking: 'Step one. Step two.', signature: 'sig-A' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'Answer.' },
    ]);
  });

  test('every delta has its content block (LiteLLM #13373 "Content block not found")', () => {
    // Interleaved thinking and text, a tool call, more text: accumulateAnthropic asserts each delta
    // goes to the open block of its type, blocks are closed before the next starts.
    const sse = openAIStream([
      { reasoning: 'a' },
      { content: 'b' },
      { reasoning: 'c' },
      { tool_calls: [{ index: 0, id: 'c1', function: { name: 'Read', arguments: '{"file_path":"/x"}' } }] },
      { content: 'd' },
      [{}, 'tool_calls'],
    ]);
    const { message } = accumulateAnthropic(toAnthropic(sse));
    assert.deepEqual(message.content.map((b: any) => b.type), ['thinking', 'text', 'thinking', 'tool_use', 'text']);
  });

  test('tool names truncated for OpenAI are restored in the stream', () => {
    const long = 'mcp__github-enterprise-server__create_or_update_repository_file_contents_with_branch';
    const short = `${long.slice(0, 55)}_deadbeef`;
    const sse = openAIStream([{ tool_calls: [{ index: 0, id: 'c1', function: { name: short, arguments: '{}' } }] }, [{}, 'tool_calls']]);
    const { message } = accumulateAnthropic(toAnthropic(sse, { ...CTX, toolNames: new Map([[short, long]]) }));
    assert.equal(message.content[0].name, long);
  });

  test('parallel tool calls: each is its own block, in index order, ids kept', () => {
    const sse = openAIStream([
      { tool_calls: [
        { index: 0, id: 'a', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/1"}' } },
        { index: 1, id: 'b', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/2"}' } },
        { index: 2, id: 'c', type: 'function', function: { name: 'Glob', arguments: '{"pattern":"*"}' } },
      ] },
      [{}, 'tool_calls'],
    ]);
    const { message } = accumulateAnthropic(toAnthropic(sse));
    assert.deepEqual(message.content.map((b: any) => [b.id, b.name, b.input]), [
      ['a', 'Read', { file_path: '/1' }],
      ['b', 'Read', { file_path: '/2' }],
      ['c', 'Glob', { pattern: '*' }],
    ]);
  });
});

describe('OpenAI → Anthropic stream: edges', () => {
  test('tool calls without `index` (some OpenAI-compatible servers): a new id is a new call', () => {
    const sse = openAIStream([
      { tool_calls: [{ id: 'a', function: { name: 'Read', arguments: '{"file_' } }] },
      { tool_calls: [{ function: { arguments: 'path":"/1"}' } }] },
      { tool_calls: [{ id: 'b', function: { name: 'Read', arguments: '{"file_path":"/2"}' } }] },
      [{}, 'tool_calls'],
    ]);
    assert.deepEqual(accumulateAnthropic(toAnthropic(sse)).message.content.map((b: any) => [b.id, b.input]), [
      ['a', { file_path: '/1' }],
      ['b', { file_path: '/2' }],
    ]);
  });

  test('arguments that arrive before the name are held until the block can start', () => {
    const sse = openAIStream([
      { tool_calls: [{ index: 0, id: 'a', function: { arguments: '{"q":' } }] },
      { tool_calls: [{ index: 0, function: { name: 'Search', arguments: '"x"}' } }] },
      [{}, 'tool_calls'],
    ]);
    assert.deepEqual(accumulateAnthropic(toAnthropic(sse)).message.content, [{ type: 'tool_use', id: 'a', name: 'Search', input: { q: 'x' } }]);
  });

  test('a tool call without an id gets a valid one', () => {
    const sse = openAIStream([{ tool_calls: [{ index: 0, function: { name: 'Read', arguments: '{}' } }] }, [{}, 'tool_calls']]);
    assert.match(accumulateAnthropic(toAnthropic(sse)).message.content[0].id, /^toolu_[A-Za-z0-9_]+$/);
  });

  test('content_filter → refusal; refusal deltas → text with stop_reason refusal', () => {
    assert.equal(accumulateAnthropic(toAnthropic(openAIStream([{ content: 'x' }, [{}, 'content_filter']]))).message.stop_reason, 'refusal');
    const r = accumulateAnthropic(toAnthropic(openAIStream([{ refusal: "I can't" }, [{}, 'stop']]))).message;
    assert.deepEqual([r.content, r.stop_reason], [[{ type: 'text', text: "I can't" }], 'refusal']);
  });

  test('stop_sequence when the upstream names the matched sequence (vLLM)', () => {
    const sse = openAIStream([{ content: 'x' }], false) + `data: ${JSON.stringify({ id: 'chatcmpl-x', choices: [{ index: 0, delta: {}, finish_reason: 'stop', stop_reason: 'END' }] })}\n\ndata: [DONE]\n\n`;
    const m = accumulateAnthropic(toAnthropic(sse, { ...CTX, stopSequences: ['END'] })).message;
    assert.deepEqual([m.stop_reason, m.stop_sequence], ['stop_sequence', 'END']);
  });

  test('choices other than index 0 are ignored', () => {
    const sse = `data: ${JSON.stringify({ id: 'x', choices: [{ index: 1, delta: { content: 'B' } }, { index: 0, delta: { content: 'A' } }] })}\n\n` + openAIStream([[{}, 'stop']]);
    assert.deepEqual(accumulateAnthropic(toAnthropic(sse)).message.content, [{ type: 'text', text: 'A' }]);
  });

  test('an upstream error chunk becomes an Anthropic error event, and nothing follows it', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    let out = t.push(openAIStream([{ content: 'partial' }], false));
    out += t.push(`data: ${JSON.stringify({ error: { message: 'Rate limit exceeded', type: 'rate_limit_exceeded', code: 429 } })}\n\n`);
    out += t.push(openAIStream([{ content: 'more' }]));
    out += t.end();
    const r = accumulateAnthropic(out);
    assert.deepEqual(r.error, { type: 'rate_limit_error', message: 'Rate limit exceeded' });
    assert.ok(t.done);
  });

  test('fail(): an error event with the type of the status; later calls add nothing', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    t.push(openAIStream([{ content: 'partial' }], false));
    const f = readSse(t.fail('upstream timed out after 600 s', 504));
    assert.deepEqual(f, [{ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'upstream timed out after 600 s' } }) }]);
    assert.equal(t.fail('again'), '');
    assert.equal(t.push('data: {}\n\n'), '');
    assert.equal(t.end(), '');
    assert.equal(JSON.parse(readSse(new OpenAIToAnthropicStream(CTX).fail('busy', 529))[0]!.data).error.type, 'overloaded_error');
  });

  test('a cut stream (no finish_reason, no [DONE]) ends with an error, and usage is the estimate of what was seen', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    const out = t.push(openAIStream([{ content: 'x'.repeat(40) }, { tool_calls: [{ index: 0, id: 'c', function: { name: 'Write', arguments: '{"content":"' + 'y'.repeat(38) } }] }], false)) + t.end();
    const r = accumulateAnthropic(out);
    assert.equal(r.error?.type, 'api_error');
    assert.match(r.error?.message, /ended before the response was complete/);
    assert.equal(t.usageReported, false);
    assert.deepEqual(t.usage, { input_tokens: 5000, output_tokens: Math.ceil((40 + 50) / 4), cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  test('usage accessor: the upstream report once it came', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    runStream(t, [fixtureBytes('openai-stream-reasoning-tools.sse')]);
    assert.equal(t.usageReported, true);
    assert.deepEqual(t.usage, { input_tokens: 1134, output_tokens: 96, cache_read_input_tokens: 4096, cache_creation_input_tokens: 0 });
  });

  test('an upstream that sends only [DONE] still gives a well-formed empty message', () => {
    const { message } = accumulateAnthropic(toAnthropic('data: [DONE]\n\n'));
    assert.deepEqual([message.content, message.stop_reason], [[], 'end_turn']);
  });

  test('garbage data lines are skipped; several chunks on one data field (no blank lines) still parse', () => {
    const a = JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'A' } }] });
    const b = JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'B' }, finish_reason: 'stop' }] });
    const out = toAnthropic(`data: not json\n\ndata: ${a}\ndata: ${b}\ndata: [DONE]\n\n`);
    assert.deepEqual(accumulateAnthropic(out).message.content, [{ type: 'text', text: 'AB' }]);
  });
});

describe('Anthropic → OpenAI stream', () => {
  const expected = {
    role: 'assistant',
    content: 'Renaming in both files.',
    reasoning_content: 'Two files need the rename.',
    thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' }],
    tool_calls: [
      { id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'shell', arguments: '{"command": ["bash", "-lc", "rg -n sum src"]}' } },
      { id: 'toolu_01Vq3bNsyo5Xy6tqY4TLpWx2', type: 'function', function: { name: 'update_plan', arguments: '{"plan": [{"step": "Rename", "status": "in_progress"}]}' } },
    ],
  };

  test('thinking, signature, text and two tool calls; usage chunk; [DONE]', () => {
    const r = accumulateOpenAI(toOpenAI(fixtureBytes('anthropic-stream-thinking-tools.sse')));
    assert.equal(r.id, 'msg_01XFDUDYJgAACzvnptvVoYEL');
    assert.deepEqual(r.message, expected);
    assert.equal(r.finish_reason, 'tool_calls');
    assert.deepEqual(r.usage, {
      prompt_tokens: 21976,
      completion_tokens: 89,
      total_tokens: 22065,
      prompt_tokens_details: { cached_tokens: 20480, cache_creation_tokens: 1024 },
      cache_read_input_tokens: 20480,
      cache_creation_input_tokens: 1024,
    });
    assert.ok(r.done);
    for (const c of r.chunks) assert.deepEqual([c.model, c.created], ['gpt-5-codex', 1700000000]);
  });

  test('every chunking gives byte-identical output', () => {
    const buf = fixtureBytes('anthropic-stream-thinking-tools.sse');
    const ref = toOpenAI(buf);
    for (const c of chunkings(buf)) assert.equal(runStream(new AnthropicToOpenAIStream(OCTX), c.chunks), ref, c.name);
  });

  test('no usage chunk unless the client asked for stream_options.include_usage', () => {
    const r = accumulateOpenAI(toOpenAI(fixtureBytes('anthropic-stream-thinking-tools.sse'), { model: 'm' }));
    assert.equal(r.usage, undefined);
    assert.ok(r.done);
    assert.ok(r.chunks.every((c) => c.choices.length === 1));
  });

  test('the usage accessor has the counts even without a usage chunk', () => {
    const t = new AnthropicToOpenAIStream({ model: 'm' });
    runStream(t, [fixtureBytes('anthropic-stream-thinking-tools.sse')]);
    assert.equal(t.usageReported, true);
    assert.deepEqual(t.usage, { input_tokens: 472, output_tokens: 89, cache_read_input_tokens: 20480, cache_creation_input_tokens: 1024 });
  });

  test('a message_delta with output_tokens only keeps message_start input counts', () => {
    const sse = anthropicEvents([
      ['message_start', { message: { id: 'msg_2', usage: { input_tokens: 30, cache_read_input_tokens: 900, output_tokens: 1 } } }],
      ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hi' } }],
      ['content_block_stop', { index: 0 }],
      ['message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 2, input_tokens: 0 } }],
      ['message_stop', {}],
    ]);
    const r = accumulateOpenAI(toOpenAI(sse));
    assert.deepEqual([r.usage!.prompt_tokens, r.usage!.completion_tokens, r.usage!.prompt_tokens_details.cached_tokens], [930, 2, 900]);
    assert.equal(r.finish_reason, 'stop');
  });

  test('tool_calls index counts tool calls, not content blocks', () => {
    const r = accumulateOpenAI(toOpenAI(fixtureBytes('anthropic-stream-thinking-tools.sse')));
    const toolChunks = r.chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    assert.deepEqual([...new Set(toolChunks.map((t: any) => t.index))], [0, 1]);
    assert.deepEqual(toolChunks[0], { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'shell', arguments: '' } });
    assert.ok(toolChunks.every((t: any) => t.function.arguments !== '' || t.id), 'no empty argument fragments');
  });

  test('ping events and server-tool blocks produce nothing', () => {
    const sse = anthropicEvents([
      MSG_START,
      ['ping', {}],
      ['content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }],
      ['content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } }],
      ['content_block_stop', { index: 0 }],
      ['content_block_start', { index: 1, content_block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] } }],
      ['content_block_stop', { index: 1 }],
      ['content_block_start', { index: 2, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { index: 2, delta: { type: 'citations_delta', citation: {} } }],
      ['content_block_delta', { index: 2, delta: { type: 'text_delta', text: 'found' } }],
      ['content_block_stop', { index: 2 }],
      ['message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }],
      ['message_stop', {}],
    ]);
    const r = accumulateOpenAI(toOpenAI(sse, { model: 'm' }));
    assert.deepEqual(r.message, { role: 'assistant', content: 'found' });
    assert.equal(r.chunks.length, 3, 'role, text, finish');
  });

  test('a tool_use whose input comes whole in content_block_start (no deltas) still reaches the client', () => {
    const sse = anthropicEvents([
      MSG_START,
      ['content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/x' } } }],
      ['content_block_stop', { index: 0 }],
      ['message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }],
      ['message_stop', {}],
    ]);
    const r = accumulateOpenAI(toOpenAI(sse));
    assert.deepEqual(r.message.tool_calls, [{ id: 'toolu_1', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/x"}' } }]);
  });

  test('redacted thinking reaches the client as a thinking_blocks entry', () => {
    const sse = anthropicEvents([
      MSG_START,
      ['content_block_start', { index: 0, content_block: { type: 'redacted_thinking', data: 'opaque' } }],
      ['content_block_stop', { index: 0 }],
      ['message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }],
      ['message_stop', {}],
    ]);
    assert.deepEqual(accumulateOpenAI(toOpenAI(sse)).message.thinking_blocks, [{ type: 'redacted_thinking', data: 'opaque' }]);
  });

  test('stop reasons map to finish reasons in the stream', () => {
    for (const [sr, fr] of [['end_turn', 'stop'], ['max_tokens', 'length'], ['tool_use', 'tool_calls'], ['stop_sequence', 'stop'], ['refusal', 'content_filter']]) {
      const sse = anthropicEvents([MSG_START, ['message_delta', { delta: { stop_reason: sr }, usage: { output_tokens: 1 } }], ['message_stop', {}]]);
      assert.equal(accumulateOpenAI(toOpenAI(sse)).finish_reason, fr, sr);
    }
  });

  test('an upstream error event becomes an OpenAI error chunk and ends the stream', () => {
    const sse = anthropicEvents([
      MSG_START,
      ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'par' } }],
      ['error', { error: { type: 'overloaded_error', message: 'Overloaded' } }],
      ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'tial' } }],
    ]);
    const r = accumulateOpenAI(toOpenAI(sse));
    assert.deepEqual(r.error, { message: 'Overloaded', type: 'overloaded_error', param: null, code: '529' });
    assert.equal(r.message.content, 'par');
    assert.equal(r.done, false);
  });

  test('a cut stream ends with an error chunk; usage counts what was produced', () => {
    const t = new AnthropicToOpenAIStream(OCTX);
    const out = runStream(t, [anthropicEvents([MSG_START, ['content_block_start', { index: 0, content_block: { type: 'text', text: '' } }], ['content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'x'.repeat(20) } }]])]);
    const r = accumulateOpenAI(out);
    assert.equal(r.error?.type, 'api_error');
    assert.deepEqual(t.usage, { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  test('a stream that stops after message_delta (no message_stop) is finished by end()', () => {
    const t = new AnthropicToOpenAIStream(OCTX);
    const out = runStream(t, [anthropicEvents([MSG_START, ['message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } }]])]);
    const r = accumulateOpenAI(out);
    assert.ok(r.done);
    assert.equal(r.usage!.completion_tokens, 3);
  });

  test('fail(): an OpenAI error chunk with the status as code', () => {
    const t = new AnthropicToOpenAIStream(OCTX);
    t.push(anthropicEvents([MSG_START]));
    assert.deepEqual(JSON.parse(readSse(t.fail('upstream timed out', 408))[0]!.data), { error: { message: 'upstream timed out', type: 'timeout_error', param: null, code: '408' } });
    assert.equal(t.end(), '');
  });
});

describe('stream round trips', () => {
  test('OpenAI stream → Anthropic → OpenAI gives back the same message, finish reason and usage', () => {
    const src = fixtureBytes('openai-stream-reasoning-tools.sse');
    const direct = accumulateOpenAI(
      // The fixture itself, read as an OpenAI client would (its own framing is \n-only and event-less).
      src.toString('utf8').replace(/^: .*\n\n/m, ''),
    );
    const anthropicSse = toAnthropic(src);
    const back = accumulateOpenAI(toOpenAI(anthropicSse));
    assert.equal(back.message.content, direct.message.content);
    assert.equal(back.message.reasoning_content, direct.message.reasoning_content);
    assert.deepEqual(
      back.message.tool_calls.map((t: any) => [t.id, t.function.name, JSON.parse(t.function.arguments)]),
      direct.message.tool_calls.map((t: any) => [t.id, t.function.name, JSON.parse(t.function.arguments)]),
    );
    assert.equal(back.finish_reason, direct.finish_reason);
    assert.deepEqual([back.usage!.prompt_tokens, back.usage!.completion_tokens, back.usage!.prompt_tokens_details.cached_tokens], [5230, 96, 4096]);
  });

  test('Anthropic stream → OpenAI → Anthropic keeps blocks, signature and usage', () => {
    const src = fixtureBytes('anthropic-stream-thinking-tools.sse');
    const back = accumulateAnthropic(toAnthropic(toOpenAI(src), { model: 'claude-sonnet-4-5-20250929' })).message;
    assert.deepEqual(back.content, [
      { type: 'thinking', thinking: 'Two files need the rename.', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds' },
      { type: 'text', text: 'Renaming in both files.' },
      { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'shell', input: { command: ['bash', '-lc', 'rg -n sum src'] } },
      { type: 'tool_use', id: 'toolu_01Vq3bNsyo5Xy6tqY4TLpWx2', name: 'update_plan', input: { plan: [{ step: 'Rename', status: 'in_progress' }] } },
    ]);
    assert.equal(back.stop_reason, 'tool_use');
    assert.deepEqual(back.usage, { input_tokens: 472, cache_creation_input_tokens: 1024, cache_read_input_tokens: 20480, output_tokens: 89 });
    assert.equal(back.id, 'msg_01XFDUDYJgAACzvnptvVoYEL');
  });
});

// push() never throws, whatever the upstream sends: a value nested too deep to re-serialize (tool
// input or arguments as an object, 100,000 levels) ends the client's stream with an error event in
// its own framing instead of an exception out of the gateway's response handler.
describe('an upstream event too deep to translate', () => {
  const N = 100_000;
  const deep = `${'['.repeat(N)}${']'.repeat(N)}`;

  test('Anthropic → OpenAI: a tool_use whose input arrives whole and deep', () => {
    const start = anthropicEvents([MSG_START]);
    const block = `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{"a":${deep}}}}\n\n`;
    const stop = anthropicEvents([['content_block_stop', { index: 0 }]]);
    const s = new AnthropicToOpenAIStream(OCTX);
    let out = '';
    assert.doesNotThrow(() => (out = s.push(start) + s.push(block) + s.push(stop)));
    const r = accumulateOpenAI(out);
    assert.match(r.error!.message, /could not be translated/);
    assert.equal(s.push(anthropicEvents([['message_stop', {}]])), '', 'nothing after the error');
  });

  test('OpenAI → Anthropic: tool call arguments sent as a deep object', () => {
    const chunk = `data: {"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","type":"function","function":{"name":"f","arguments":{"a":${deep}}}}]}}]}\n\n`;
    const s = new OpenAIToAnthropicStream(CTX);
    let out = '';
    assert.doesNotThrow(() => (out = s.push(chunk) + s.end()));
    const r = accumulateAnthropic(out);
    assert.equal(r.error!.type, 'api_error');
    assert.match(r.error!.message, /could not be translated/);
  });
});

describe('upstream streams the translators must bound', () => {
  test('an event without end (no newline for 17 MB) fails the stream with an error event instead of growing', () => {
    const t = new OpenAIToAnthropicStream(CTX);
    let out = t.push(openAIStream([{ role: 'assistant', content: 'hi' }], false));
    const piece = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 17 && !t.done; i++) out += t.push(`data: ${piece}`);
    assert.equal(t.done, true, 'the stream ended at the bound');
    const events = readSse(out);
    const last = JSON.parse(events[events.length - 1]!.data);
    assert.equal(last.type, 'error');
    assert.match(last.error.message, /larger than 16 MB/);
  });

  test('thousands of tool calls in one stream each keep their own arguments (a call is found by its index, not by a walk over the others)', () => {
    const n = 3000;
    const items: unknown[] = [{ role: 'assistant' }];
    for (let i = 0; i < n; i++) {
      items.push({ tool_calls: [{ index: i, id: `call_${i}`, type: 'function', function: { name: 'f', arguments: '' } }] });
      items.push({ tool_calls: [{ index: i, function: { arguments: `{"i":${i}}` } }] });
    }
    items.push([{}, 'tool_calls']);
    const r = accumulateAnthropic(toAnthropic(openAIStream(items)));
    const uses = r.message.content.filter((b: any) => b.type === 'tool_use');
    assert.equal(uses.length, n);
    uses.forEach((b: any, i: number) => assert.deepEqual(b.input, { i }, b.id));
  });
});
