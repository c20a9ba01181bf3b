// Bedrock's wire, piece by piece: the AWS event-stream decoder (every cut of a stream, headers of
// every type, CRCs checked, linear), InvokeModel's body splice and its stream decoded into
// Anthropic SSE, the Converse mappings both ways, and how a model id picks its API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { Dropped } from '../../src/translate/dropped';
import { scanBody } from '../../src/gateway/body-scan';
import { EventStreamDecoder, EventStreamError } from '../../src/providers/bedrock/event-stream';
import { invokeBody, invokeBodyParts, InvokeStreamDecoder } from '../../src/providers/bedrock/invoke';
import { anthropicMessage, ConverseStreamDecoder, converseRequest } from '../../src/providers/bedrock/converse';
import { anthropicName, bedrockRoute, isClaude } from '../../src/providers/bedrock/target';
import { CachedCredentials } from '../../src/providers/bedrock/credentials';
import { encodeFrame } from '../support/fake-bedrock';
import { parseSse } from '../support/http';
import { assertLinear, counted } from './linear-helpers';

const chunk = (event: object) => encodeFrame({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abcd' })));
const converseFrame = (type: string, payload: object) => encodeFrame({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));

const EVENTS = [
  { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo\nworld "quoted"' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } },
  { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 12, outputTokenCount: 5 } },
];
const STREAM = Buffer.concat(EVENTS.map(chunk));
const EXPECTED_SSE = EVENTS.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');

function feed(d: { push(c: Buffer): Buffer; end(): Buffer }, pieces: Buffer[]): string {
  return Buffer.concat([...pieces.map((p) => d.push(p)), d.end()]).toString('utf8');
}

function bytes(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.from([x]));
}

// ---- event-stream framing ------------------------------------------------------------------------

test('event-stream: the same messages however the stream is cut (every cut point, and byte by byte)', () => {
  const whole = new EventStreamDecoder().push(STREAM);
  assert.equal(whole.length, EVENTS.length);
  assert.deepEqual(whole[0]!.headers, { ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' });
  for (let cut = 1; cut < STREAM.length; cut++) {
    const d = new EventStreamDecoder();
    const got = [...d.push(STREAM.subarray(0, cut)), ...d.push(STREAM.subarray(cut))];
    assert.deepEqual(got.map((m) => m.payload.toString()), whole.map((m) => m.payload.toString()), `cut at ${cut}`);
    assert.equal(d.partial, false);
  }
  const d = new EventStreamDecoder();
  const one = bytes(STREAM).flatMap((b) => d.push(b));
  assert.deepEqual(one.map((m) => m.payload.toString()), whole.map((m) => m.payload.toString()));
});

test('event-stream: headers of every type are read past; only strings are kept', () => {
  // :message-type (string), a bool, a byte, a short, an int, a long, bytes, a timestamp and a uuid.
  const h: Buffer[] = [];
  const name = (n: string) => Buffer.concat([Buffer.from([n.length]), Buffer.from(n)]);
  const str = (n: string, v: string) => {
    const b = Buffer.alloc(3);
    b[0] = 7;
    b.writeUInt16BE(v.length, 1);
    return Buffer.concat([name(n), b, Buffer.from(v)]);
  };
  h.push(str(':message-type', 'event'), Buffer.concat([name('t'), Buffer.from([0])]), Buffer.concat([name('f'), Buffer.from([1])]));
  h.push(Buffer.concat([name('b'), Buffer.from([2, 9])]), Buffer.concat([name('s'), Buffer.from([3, 0, 9])]), Buffer.concat([name('i'), Buffer.from([4, 0, 0, 0, 9])]));
  h.push(Buffer.concat([name('l'), Buffer.from([5]), Buffer.alloc(8)]), Buffer.concat([name('y'), Buffer.from([6, 0, 2, 0xff, 0xfe])]));
  h.push(Buffer.concat([name('ts'), Buffer.from([8]), Buffer.alloc(8)]), Buffer.concat([name('u'), Buffer.from([9]), Buffer.alloc(16)]), str(':event-type', 'chunk'));
  const headers = Buffer.concat(h);
  const payload = Buffer.from('{"x":1}');
  const total = 12 + headers.length + payload.length + 4;
  const msg = Buffer.alloc(total);
  msg.writeUInt32BE(total, 0);
  msg.writeUInt32BE(headers.length, 4);
  msg.writeUInt32BE(crc32(msg.subarray(0, 8)), 8);
  headers.copy(msg, 12);
  payload.copy(msg, 12 + headers.length);
  msg.writeUInt32BE(crc32(msg.subarray(0, total - 4)), total - 4);
  const [m] = new EventStreamDecoder().push(msg);
  assert.deepEqual(m!.headers, { ':message-type': 'event', ':event-type': 'chunk' });
  assert.equal(m!.payload.toString(), '{"x":1}');
});

test('event-stream: a CRC that does not match, or a length no message has, is a corrupt stream', () => {
  const bad = Buffer.from(STREAM.subarray(0, STREAM.readUInt32BE(0)));
  bad[20] ^= 1;
  assert.throws(() => new EventStreamDecoder().push(bad), EventStreamError);
  const prelude = Buffer.from(bad);
  prelude[1] ^= 1;
  assert.throws(() => new EventStreamDecoder().push(prelude), EventStreamError);
  const huge = Buffer.alloc(12);
  huge.writeUInt32BE(0x7fffffff, 0);
  huge.writeUInt32BE(0, 4);
  huge.writeUInt32BE(crc32(huge.subarray(0, 8)), 8);
  assert.throws(() => new EventStreamDecoder().push(huge), /bad message length/);
});

test('event-stream: linear in the stream however it is cut', () => {
  const big = Buffer.concat(Array.from({ length: 200 }, () => STREAM));
  for (const size of [1, 3, 64, 4096]) {
    const d = new EventStreamDecoder();
    const { steps } = counted(() => {
      for (let i = 0; i < big.length; i += size) d.push(big.subarray(i, i + size));
    });
    assertLinear(`pieces of ${size}`, big.length, steps, 4);
  }
});

// ---- InvokeModel -----------------------------------------------------------------------------------

test('invoke stream: Anthropic SSE byte for byte, whole or one byte at a time', () => {
  assert.equal(feed(new InvokeStreamDecoder(), [STREAM]), EXPECTED_SSE);
  assert.equal(feed(new InvokeStreamDecoder(), bytes(STREAM)), EXPECTED_SSE);
});

test('invoke stream: an exception frame is an Anthropic error event; a corrupt or cut stream ends with one', () => {
  const ex = encodeFrame({ ':exception-type': 'throttlingException', ':content-type': 'application/json', ':message-type': 'exception' }, Buffer.from('{"message":"Too many tokens"}'));
  const out = parseSse(feed(new InvokeStreamDecoder(), [STREAM.subarray(0, STREAM.readUInt32BE(0)), ex]));
  assert.deepEqual(out.map((e) => e.event), ['message_start', 'error']);
  assert.deepEqual(JSON.parse(out[1]!.data), { type: 'error', error: { type: 'rate_limit_error', message: 'BedrockException - throttlingException: Too many tokens' } });
  const corrupt = Buffer.from(STREAM);
  corrupt[30] ^= 1;
  const c = parseSse(feed(new InvokeStreamDecoder(), [corrupt]));
  assert.deepEqual(c.map((e) => e.event), ['error']);
  assert.match(JSON.parse(c[0]!.data).error.message, /CRC/);
  const cut = parseSse(feed(new InvokeStreamDecoder(), [STREAM.subarray(0, STREAM.length - 3)]));
  assert.equal(cut.at(-1)!.event, 'error');
  assert.match(JSON.parse(cut.at(-1)!.data).error.message, /ended inside a frame/);
});

test('invoke body: model and stream out, anthropic_version in, betas from header and body under Bedrock’s names, the rest named', () => {
  const body = Buffer.from(JSON.stringify({ model: 'claude-x', max_tokens: 10, stream: true, anthropic_beta: ['context-1m-2025-08-07', 'oauth-2025-04-20'], messages: [{ role: 'user', content: 'hi' }], metadata: { user_id: 'u' }, speed: 'fast', context_management: { edits: [{ type: 'clear_thinking_20251015' }] } }));
  const scan = scanBody(body);
  const dropped = new Dropped();
  const out = JSON.parse(invokeBody(body, 'advanced-tool-use-2025-11-20, claude-code-20250219', dropped).toString());
  assert.deepEqual(out, {
    anthropic_version: 'bedrock-2023-05-31',
    anthropic_beta: ['tool-search-tool-2025-10-19', 'context-1m-2025-08-07'],
    max_tokens: 10,
    messages: [{ role: 'user', content: 'hi' }],
    metadata: { user_id: 'u' },
  });
  assert.deepEqual(dropped.items?.split('; ').sort(), ["anthropic-beta (type 'claude-code-20250219')", "anthropic-beta (type 'oauth-2025-04-20')", "context_management (type 'context_management')", "speed (type 'field')"]);
  // From the gateway's scan of the body (its member spans), the same bytes without a second walk.
  const { steps: again, value: fromScan } = counted(() => invokeBody(body, 'advanced-tool-use-2025-11-20, claude-code-20250219', undefined, undefined, scan));
  const { steps: walked, value: fromWalk } = counted(() => invokeBody(body, 'advanced-tool-use-2025-11-20, claude-code-20250219'));
  assert.equal(fromScan.toString(), fromWalk.toString());
  assert.equal(walked - again, body.length, 'the walk of the body is what the scan spares');
  // compact edits are kept, with the beta they need; the client's own anthropic_version is kept.
  const compact = JSON.parse(invokeBody(Buffer.from('{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[],"context_management":{"edits":[{"type":"compact_20260112"},{"type":"clear_thinking_20251015"}]}}'), undefined).toString());
  assert.deepEqual(compact.context_management, { edits: [{ type: 'compact_20260112' }] });
  assert.deepEqual(compact.anthropic_beta, ['compact-2026-01-12']);
  // count_tokens bodies get a max_tokens; the values are the client's bytes, unparsed.
  const raw = '{"model":"m","messages":[{"role":"user","content":"caf\\u00e9 \\"x\\""}]}';
  assert.equal(invokeBody(Buffer.from(raw), undefined, undefined, 1024).toString(), '{"anthropic_version":"bedrock-2023-05-31","max_tokens":1024,"messages":[{"role":"user","content":"caf\\u00e9 \\"x\\""}]}');
});

test('invoke body in pieces: large members are views of the client’s body, small ones joined; the same bytes as a whole', () => {
  const big = 'x'.repeat(20_000);
  const body = Buffer.from(JSON.stringify({ model: 'm', system: big, max_tokens: 5, stream: true, messages: [{ role: 'user', content: big }], temperature: 0 }));
  const parts = invokeBodyParts(body, undefined, undefined, undefined, scanBody(body));
  assert.equal(Buffer.concat(parts).toString(), invokeBody(body, undefined).toString());
  const views = parts.filter((p) => p.buffer === body.buffer);
  assert.equal(views.length, 2, 'system and messages go out by reference');
  assert.ok(parts.length <= 5, `few pieces: ${parts.length}`);
  assert.deepEqual(Object.keys(JSON.parse(Buffer.concat(parts).toString())), ['anthropic_version', 'system', 'max_tokens', 'messages', 'temperature']);
});

// ---- Converse ------------------------------------------------------------------------------------

test('converse request: blocks, tools, tool results, images, thinking and cache points mapped; what has no place named', () => {
  const dropped = new Dropped();
  const req = JSON.parse(
    converseRequest(
      Buffer.from(
        JSON.stringify({
          model: 'x',
          max_tokens: 100,
          temperature: 0.2,
          top_p: 0.9,
          top_k: 5,
          stop_sequences: ['END'],
          system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
          tools: [{ name: 'f', description: 'd', input_schema: { type: 'object' } }, { type: 'web_search_20250305', name: 'web_search' }],
          tool_choice: { type: 'tool', name: 'f' },
          messages: [
            { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }, { type: 'weird_block' }] },
            { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 'sig' }, { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok', is_error: true }] },
          ],
        }),
      ),
      dropped,
    ).toString(),
  );
  assert.deepEqual(req, {
    messages: [
      { role: 'user', content: [{ text: 'look' }, { image: { format: 'png', source: { bytes: 'AAAA' } } }] },
      { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'hmm', signature: 'sig' } } }, { toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'ok' }], status: 'error' } }] },
    ],
    system: [{ text: 'sys' }, { cachePoint: { type: 'default' } }],
    inferenceConfig: { maxTokens: 100, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
    toolConfig: { tools: [{ toolSpec: { name: 'f', description: 'd', inputSchema: { json: { type: 'object' } } } }], toolChoice: { tool: { name: 'f' } } },
  });
  assert.equal(dropped.tools, 'web_search_20250305');
  assert.match(dropped.items ?? '', /messages\[0\]\.content\[2\] \(type 'weird_block'\)/);
  assert.match(dropped.items ?? '', /top_k/);
  assert.throws(() => converseRequest(Buffer.from('{"messages":[{"role":"system","content":"x"}]}')), /role must be user or assistant/);
});

test('converse answer: a whole answer as an Anthropic message, usage and stop reason mapped', () => {
  const m = JSON.parse(
    anthropicMessage(
      Buffer.from(JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'hi' }, { toolUse: { toolUseId: 't', name: 'f', input: { x: 1 } } }] } }, stopReason: 'tool_use', usage: { inputTokens: 7, outputTokens: 3, cacheReadInputTokens: 2 } })),
      'meta.llama',
    ).toString(),
  );
  assert.deepEqual({ ...m, id: undefined }, {
    id: undefined,
    type: 'message',
    role: 'assistant',
    model: 'meta.llama',
    content: [{ type: 'text', text: 'hi' }, { type: 'tool_use', id: 't', name: 'f', input: { x: 1 } }],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 2, output_tokens: 3 },
  });
  assert.match(m.id, /^msg_bdrk_/);
});

test('converse stream: Anthropic events with text, reasoning and a tool call, usage on message_delta; byte by byte the same', () => {
  const frames = Buffer.concat([
    converseFrame('messageStart', { role: 'assistant' }),
    converseFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'think' } } }),
    converseFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'sig' } } }),
    converseFrame('contentBlockStop', { contentBlockIndex: 0 }),
    converseFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'Hi' } }),
    converseFrame('contentBlockStop', { contentBlockIndex: 1 }),
    converseFrame('contentBlockStart', { contentBlockIndex: 2, start: { toolUse: { toolUseId: 'tu1', name: 'f' } } }),
    converseFrame('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{"a":' } } }),
    converseFrame('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '1}' } } }),
    converseFrame('contentBlockStop', { contentBlockIndex: 2 }),
    converseFrame('messageStop', { stopReason: 'tool_use' }),
    converseFrame('metadata', { usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 }, metrics: { latencyMs: 5 } }),
  ]);
  const whole = feed(new ConverseStreamDecoder('meta.llama'), [frames]);
  const events = parseSse(whole).map((e) => JSON.parse(e.data));
  assert.deepEqual(
    events.map((e) => e.type),
    ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
  );
  assert.deepEqual(events[1].content_block, { type: 'thinking', thinking: '', signature: '' });
  assert.deepEqual(events[3].delta, { type: 'signature_delta', signature: 'sig' });
  assert.deepEqual(events[8].content_block, { type: 'tool_use', id: 'tu1', name: 'f', input: {} });
  assert.deepEqual(events[12], { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 9, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 4 } });
  const oneByOne = feed(new ConverseStreamDecoder('meta.llama'), bytes(frames));
  assert.deepEqual(parseSse(oneByOne).map((e) => ({ ...JSON.parse(e.data), message: undefined })), events.map((e) => ({ ...e, message: undefined })));
  // Without its metadata frame, the stop is still told.
  const noMeta = parseSse(feed(new ConverseStreamDecoder('m'), [frames.subarray(0, frames.length - converseFrame('metadata', { usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 }, metrics: { latencyMs: 5 } }).length)]));
  assert.deepEqual(noMeta.slice(-2).map((e) => e.event), ['message_delta', 'message_stop']);
});

// ---- routes --------------------------------------------------------------------------------------

test('model ids: Claude (and its inference profiles) through InvokeModel, others through Converse, LiteLLM’s route prefixes win', () => {
  assert.deepEqual(bedrockRoute('anthropic.claude-3-5-haiku-20241022-v1:0'), { route: 'invoke', id: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
  assert.deepEqual(bedrockRoute('us.anthropic.claude-sonnet-4-5-20250929-v1:0').route, 'invoke');
  assert.deepEqual(bedrockRoute('global.anthropic.claude-sonnet-4-5-20250929-v1:0').route, 'invoke');
  assert.deepEqual(bedrockRoute('meta.llama3-3-70b-instruct-v1:0').route, 'converse');
  assert.deepEqual(bedrockRoute('converse/anthropic.claude-3-5-haiku-20241022-v1:0'), { route: 'converse', id: 'anthropic.claude-3-5-haiku-20241022-v1:0' });
  assert.deepEqual(bedrockRoute('invoke/us.anthropic.claude-x'), { route: 'invoke', id: 'us.anthropic.claude-x' });
  assert.equal(isClaude('amazon.nova-pro-v1:0'), false);
  assert.equal(anthropicName('us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'claude-sonnet-4-5-20250929');
  assert.equal(anthropicName('anthropic.claude-3-5-haiku-20241022-v1:0'), 'claude-3-5-haiku-20241022');
  assert.equal(anthropicName('meta.llama3'), undefined);
});

// ---- credentials and linearity -------------------------------------------------------------------

test('credentials: held ones are given at once; near expiry a refresh starts behind them; none valid → the request waits for one', async () => {
  let fetches = 0;
  let expiresIn = 60 * 60_000;
  const provider = () => {
    fetches++;
    return Promise.resolve({ accessKeyId: `AKIA${fetches}`, secretAccessKey: 's', expiration: new Date(Date.now() + expiresIn) });
  };
  const c = new CachedCredentials(provider);
  const first = c.get();
  assert.ok(first instanceof Promise, 'nothing held yet: the first caller waits');
  assert.equal((await first).accessKeyId, 'AKIA1');
  const held = c.get();
  assert.ok(!(held instanceof Promise), 'held and valid: given at once');
  assert.equal(fetches, 1);
  // Held but within 5 minutes of expiry: still given at once, and one refresh starts.
  expiresIn = 60_000;
  const c2 = new CachedCredentials(provider);
  await c2.get();
  const before = fetches;
  const soon = c2.get();
  assert.ok(!(soon instanceof Promise));
  c2.get();
  await new Promise<void>((r) => setImmediate(r));
  assert.equal(fetches, before + 1, 'one refresh for both callers');
  // Expired: the caller waits for the new one.
  expiresIn = -1;
  const c3 = new CachedCredentials(provider);
  await c3.get();
  assert.ok(c3.get() instanceof Promise);
  // A failing provider: the error names what is missing, and is not retried on every request.
  let failures = 0;
  const broken = new CachedCredentials(() => {
    failures++;
    return Promise.reject(new Error('Could not load credentials from any providers'));
  });
  await assert.rejects(Promise.resolve(broken.get()), /no AWS credentials: Could not load credentials/);
  await assert.rejects(Promise.resolve(broken.get()), /no AWS credentials/);
  assert.equal(failures, 1);
});

test('invoke body and converse stream: linear in their input', () => {
  for (const n of [1_000, 10_000]) {
    const nested = `{"model":"m","messages":[${Array.from({ length: n }, () => '{"role":"user","content":[{"type":"text","text":"a\\"b"}]}').join(',')}],"x":[[[[[]]]]],"max_tokens":1}`;
    const body = Buffer.from(nested);
    const { steps } = counted(() => invokeBody(body, undefined));
    assertLinear(`invoke body of ${body.length} bytes`, body.length, steps, 4);
    const frames = Buffer.concat(Array.from({ length: n / 10 }, (_, i) => converseFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: `t${i}` } })));
    const d = new ConverseStreamDecoder('m');
    const { steps: s2 } = counted(() => {
      for (let i = 0; i < frames.length; i += 5) d.push(frames.subarray(i, i + 5));
    });
    assertLinear(`converse stream of ${frames.length} bytes`, frames.length, s2, 4);
  }
});
