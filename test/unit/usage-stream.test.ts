// OpenAIUsageScanner / AnthropicUsageScanner: usage read from SSE streams as they pass. Every way
// of cutting a stream into chunks (whole, byte by byte, random seeded splits, splits at every
// position) must give the same result, streams cut short must give the usage seen so far, and the
// usage chunk the client did not ask for must disappear from the forwarded bytes — and nothing
// else with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StreamUsage } from '../../src/accounting/usage-stream';
import { AnthropicUsageScanner } from '../../src/accounting/usage-stream-anthropic';
import { OpenAIUsageScanner } from '../../src/accounting/usage-stream-openai';
import type { TokenUsage } from '../../src/accounting/usage-types';
import { scanSteps } from '../../src/scan-steps';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/pricing');
const OPENAI_STREAM = readFileSync(path.join(FIXTURES, 'openai-chat-stream.sse'));
const ANTHROPIC_STREAM = readFileSync(path.join(FIXTURES, 'anthropic-messages-stream.sse'));

/** mulberry32: small seeded PRNG so failures replay. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function splitRandom(buf: Buffer, seed: number, maxPiece = 64): Buffer[] {
  const r = rng(seed);
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(r() * maxPiece);
    out.push(buf.subarray(i, i + n));
    i += n;
  }
  return out;
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

/** All the chunkings a test runs through: whole, byte by byte, sizes 2..7, 40 random seeds. */
function chunkings(buf: Buffer): Array<[string, Buffer[]]> {
  const out: Array<[string, Buffer[]]> = [
    ['whole', [buf]],
    ['byte-by-byte', splitEvery(buf, 1)],
  ];
  for (const n of [2, 3, 5, 7, 64, 1000]) out.push([`every ${n}`, splitEvery(buf, n)]);
  for (let seed = 1; seed <= 40; seed++) out.push([`seed ${seed}`, splitRandom(buf, seed, seed % 2 ? 16 : 300)]);
  // Every single cut point of the stream.
  for (let cut = 1; cut < buf.length; cut += Math.max(1, Math.floor(buf.length / 400))) out.push([`cut ${cut}`, [buf.subarray(0, cut), buf.subarray(cut)]]);
  return out;
}

/** Copies chunks so the scanner can't rely on them outliving push(). */
function fresh(chunks: Buffer[]): Buffer[] {
  return chunks.map((c) => Buffer.from(c));
}

function runOpenAI(chunks: Buffer[], hide: boolean): { out: Buffer; result: StreamUsage; scanner: OpenAIUsageScanner } {
  const s = new OpenAIUsageScanner({ hideUsageChunk: hide });
  const outs: Buffer[] = [];
  for (const c of fresh(chunks)) {
    outs.push(Buffer.from(s.push(c)));
    c.fill(0x21); // the caller may reuse its buffer once it has written push's output
  }
  outs.push(s.end());
  return { out: Buffer.concat(outs), result: s.result(), scanner: s };
}

function runAnthropic(chunks: Buffer[]): { out: Buffer; result: StreamUsage; scanner: AnthropicUsageScanner } {
  const s = new AnthropicUsageScanner();
  const outs: Buffer[] = [];
  for (const c of fresh(chunks)) {
    const o = s.push(c);
    outs.push(Buffer.from(o));
    c.fill(0x21);
  }
  outs.push(s.end());
  return { out: Buffer.concat(outs), result: s.result(), scanner: s };
}

const OPENAI_EXPECTED_USAGE: TokenUsage = {
  promptIncludesCache: true,
  prompt_tokens: 2345,
  completion_tokens: 21,
  cache_read_input_tokens: 1920,
  cache_creation_input_tokens: 0,
};

/** The stream's usage-only event, exactly as in the fixture. */
function usageEvent(stream: Buffer): string {
  const text = stream.toString('utf8');
  const start = text.indexOf('data: {', text.indexOf('"finish_reason":"stop"'));
  const end = text.indexOf('\n\n', start) + 2;
  const ev = text.slice(start, end);
  assert.match(ev, /"choices":\[\],"usage":\{/);
  return ev;
}

// ---------------------------------------------------------------- OpenAI

test('OpenAI stream: id, model, usage with cached tokens, for every chunking', () => {
  for (const [name, chunks] of chunkings(OPENAI_STREAM)) {
    const { out, result } = runOpenAI(chunks, false);
    assert.ok(out.equals(OPENAI_STREAM), `${name}: bytes changed without hideUsageChunk`);
    assert.equal(result.id, 'chatcmpl-C3kZ0aQ7pLm2NvR4tYx8wB1cD5eFg', name);
    assert.equal(result.model, 'gpt-4o-2024-08-06', name);
    assert.deepEqual(result.usage, OPENAI_EXPECTED_USAGE, name);
    assert.equal(result.complete, true, name);
    assert.equal(result.done, true, name);
    assert.equal(result.deltaEvents, 21, name);
  }
});

test('OpenAI stream: hideUsageChunk removes exactly the usage-only event, for every chunking', () => {
  const expected = Buffer.from(OPENAI_STREAM.toString('utf8').replace(usageEvent(OPENAI_STREAM), ''));
  assert.equal(expected.length, OPENAI_STREAM.length - Buffer.byteLength(usageEvent(OPENAI_STREAM)));
  assert.ok(expected.toString().endsWith('"finish_reason":"stop"}],"usage":null,"obfuscation":"Lm9"}\n\ndata: [DONE]\n\n'));
  for (const [name, chunks] of chunkings(OPENAI_STREAM)) {
    const { out, result } = runOpenAI(chunks, true);
    assert.ok(out.equals(expected), `${name}: forwarded bytes differ\n${out.toString().slice(-400)}`);
    assert.deepEqual(result.usage, OPENAI_EXPECTED_USAGE, name);
  }
});

test('OpenAI stream: chunks without usage are returned as they are, at once', () => {
  const events = OPENAI_STREAM.toString('utf8').split(/(?<=\n\n)/).filter((e) => e);
  const s = new OpenAIUsageScanner({ hideUsageChunk: true });
  for (const ev of events.slice(0, -2)) {
    const chunk = Buffer.from(ev);
    assert.equal(s.push(chunk), chunk, 'a whole content event passes through as the same buffer');
  }
  // A content event cut after its choices show an element is released at once, not held to its end.
  const s2 = new OpenAIUsageScanner({ hideUsageChunk: true });
  const content = Buffer.from(events[3]!);
  const at = content.indexOf('"delta"') + 3;
  assert.ok(s2.push(content.subarray(0, at)).equals(content.subarray(0, at)));
  assert.ok(s2.push(content.subarray(at)).equals(content.subarray(at)));
  // Cut before its choices: held (a few hundred bytes at most), then released whole.
  const s3 = new OpenAIUsageScanner({ hideUsageChunk: true });
  const early = content.indexOf('"choices"') - 10;
  assert.equal(s3.push(content.subarray(0, early)).length, 0);
  assert.ok(s3.push(content.subarray(early)).equals(content));
  // The usage event is held while undecided and dropped when complete.
  const s4 = new OpenAIUsageScanner({ hideUsageChunk: true });
  const usage = Buffer.from(events[events.length - 2]!);
  const cut = usage.indexOf('"choices":[') + 5;
  assert.equal(s4.push(usage.subarray(0, cut)).length, 0);
  assert.equal(s4.push(usage.subarray(cut)).length, 0);
  assert.equal(s4.result().usage?.prompt_tokens, 2345);
});

test('OpenAI stream cut before the usage chunk: usage undefined, estimate from the deltas seen', () => {
  const text = OPENAI_STREAM.toString('utf8');
  const cutAt = Buffer.byteLength(text.slice(0, text.indexOf('" text"')));
  for (const [name, chunks] of chunkings(OPENAI_STREAM.subarray(0, cutAt))) {
    const { result, scanner } = runOpenAI(chunks, true);
    assert.equal(result.usage, undefined, name);
    assert.equal(result.complete, false, name);
    assert.equal(result.done, false, name);
    assert.equal(result.id, 'chatcmpl-C3kZ0aQ7pLm2NvR4tYx8wB1cD5eFg', name);
    // 10 content deltas fully seen ("Sure" .. " 日本語"); the one cut mid-way is not counted.
    assert.equal(result.deltaEvents, 10, name);
    const est = scanner.usageOrEstimate(1800);
    assert.equal(est.estimated, true);
    assert.equal(est.promptIncludesCache, true);
    assert.equal(est.prompt_tokens, 1800);
    assert.equal(est.completion_tokens, Math.max(10, result.estimatedCompletionTokens));
  }
});

test('OpenAI stream cut inside the usage chunk: not forwarded, and usage taken if it parses', () => {
  const ev = usageEvent(OPENAI_STREAM);
  const full = OPENAI_STREAM.toString('utf8');
  const before = full.slice(0, full.indexOf(ev));
  // Cut just before the blank line: the event is complete JSON, end() scans it.
  const cut = Buffer.from(before + ev.slice(0, -2));
  const a = runOpenAI([cut], true);
  assert.equal(a.out.toString(), before);
  assert.equal(a.result.usage?.completion_tokens, 21);
  // Cut in the middle of the JSON: no usage, nothing of it reaches the client either way.
  const half = Buffer.from(before + ev.slice(0, ev.length >> 1));
  const b = runOpenAI([half], true);
  assert.equal(b.result.usage, undefined);
  assert.equal(b.out.toString(), before + ev.slice(0, ev.length >> 1), 'an undecidable tail is forwarded at end(): the client drops an unterminated event');
});

function oaiChunk(obj: object): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

test('OpenAI stream: usage riding on a chunk with choices is read but never hidden', () => {
  const stream =
    oaiChunk({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'mistral-large', choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }] }) +
    oaiChunk({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'mistral-large', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 } }) +
    'data: [DONE]\n\n';
  const buf = Buffer.from(stream);
  for (const [name, chunks] of chunkings(buf)) {
    const { out, result } = runOpenAI(chunks, true);
    assert.ok(out.equals(buf), name);
    assert.deepEqual(result.usage, { promptIncludesCache: true, prompt_tokens: 10, completion_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  }
});

test('OpenAI stream: an Azure prompt-filter chunk with empty choices and no usage is kept', () => {
  const stream =
    oaiChunk({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' } } }] }) +
    oaiChunk({ id: 'chatcmpl-az', object: 'chat.completion.chunk', model: 'gpt-4o-2024-11-20', choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }], usage: null }) +
    oaiChunk({ id: 'chatcmpl-az', object: 'chat.completion.chunk', model: 'gpt-4o-2024-11-20', choices: [], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } }) +
    'data: [DONE]\n\n';
  const buf = Buffer.from(stream);
  const lastUsage = stream.slice(stream.lastIndexOf('data: {"id":"chatcmpl-az","object":"chat.completion.chunk","model":"gpt-4o-2024-11-20","choices":[]'), stream.indexOf('data: [DONE]'));
  const expected = Buffer.from(stream.replace(lastUsage, ''));
  for (const [name, chunks] of chunkings(buf)) {
    const { out, result } = runOpenAI(chunks, true);
    assert.ok(out.equals(expected), `${name}\n${out.toString()}`);
    assert.equal(result.usage?.prompt_tokens, 9);
    // The first chunk's id and model are empty: the first non-empty ones count.
    assert.equal(result.id, 'chatcmpl-az', name);
    assert.equal(result.model, 'gpt-4o-2024-11-20', name);
  }
});

test('OpenAI stream with CRLF line endings, spaces after the colon, and a comment line', () => {
  const lines = [
    ': keep-alive',
    '',
    'data:{"id":"cmpl-9","object":"chat.completion.chunk","model":"local","choices":[{"index":0,"delta":{"content":"ab"}}]}',
    '',
    'data:   {"id":"cmpl-9","choices": [ ],  "usage" : {"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}',
    '',
    'data: [DONE]',
    '',
    '',
  ];
  const buf = Buffer.from(lines.join('\r\n'));
  const usageLine = lines[4]! + '\r\n\r\n';
  const expected = Buffer.from(lines.join('\r\n').replace(usageLine, ''));
  for (const [name, chunks] of chunkings(buf)) {
    const { out, result } = runOpenAI(chunks, true);
    assert.ok(out.equals(expected), `${name}: ${JSON.stringify(out.toString())}`);
    assert.equal(result.usage?.prompt_tokens, 3, name);
    assert.equal(result.id, 'cmpl-9');
    assert.equal(result.done, true, name);
  }
});

test('OpenAI stream: several events per chunk, and the usage chunk alone in a chunk', () => {
  const events = OPENAI_STREAM.toString('utf8').split(/(?<=\n\n)/);
  const chunks = [Buffer.from(events.slice(0, 5).join('')), Buffer.from(events.slice(5, -2).join('')), Buffer.from(events[events.length - 2]!), Buffer.from(events[events.length - 1]!)];
  const s = new OpenAIUsageScanner({ hideUsageChunk: true });
  assert.equal(s.push(chunks[0]!), chunks[0]);
  assert.equal(s.push(chunks[1]!), chunks[1]);
  assert.equal(s.push(chunks[2]!).length, 0);
  assert.equal(s.push(chunks[3]!), chunks[3]);
  assert.equal(s.end().length, 0);
  assert.deepEqual(s.result().usage, OPENAI_EXPECTED_USAGE);
});

test('OpenAI stream: tool-call argument deltas count towards the estimate', () => {
  const args = ['{"lo', 'cation": "Par', 'is, France"', ', "unit": "c"}'];
  let stream = oaiChunk({ id: 'c1', choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] } }] });
  for (const a of args) stream += oaiChunk({ id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: a } }] } }] });
  const { result } = runOpenAI([Buffer.from(stream)], false);
  assert.equal(result.usage, undefined);
  // the first chunk carries the function name; the four argument deltas carry text
  assert.equal(result.deltaEvents, 5);
  const bytes = 'get_weather'.length + args.reduce((n, a) => n + JSON.stringify(a).length - 2, 0);
  assert.equal(result.estimatedCompletionTokens, Math.max(5, Math.ceil(bytes / 4)));
});

test('OpenAI stream: garbage, empty chunks and push after end do not throw', () => {
  const s = new OpenAIUsageScanner({ hideUsageChunk: true });
  assert.equal(s.push(Buffer.alloc(0)).length, 0);
  const junk = Buffer.from('data: {not json\n\ndata: {"choices":[],"usage":{"prompt_tokens":\n\n');
  const out = s.push(junk);
  assert.equal(s.result().usage, undefined);
  assert.ok(Buffer.concat([out, s.end()]).equals(junk));
  const after = Buffer.from('data: x\n\n');
  assert.equal(s.push(after), after);
});

// ---------------------------------------------------------------- Anthropic

const ANTHROPIC_EXPECTED: TokenUsage = {
  promptIncludesCache: false,
  prompt_tokens: 12,
  completion_tokens: 89,
  cache_read_input_tokens: 18000,
  cache_creation_input_tokens: 2048,
};

test('Anthropic stream: message_start + message_delta, for every chunking', () => {
  for (const [name, chunks] of chunkings(ANTHROPIC_STREAM)) {
    const { out, result, scanner } = runAnthropic(chunks);
    assert.ok(out.equals(ANTHROPIC_STREAM), name);
    assert.equal(result.id, 'msg_01TzXk4yN6fZ8qW2eR9pLm3A', name);
    assert.equal(result.model, 'claude-sonnet-4-5-20250929', name);
    assert.deepEqual(result.usage, ANTHROPIC_EXPECTED, name);
    assert.equal(result.complete, true, name);
    assert.equal(result.done, true, name);
    assert.deepEqual(scanner.usageOrEstimate(5), ANTHROPIC_EXPECTED, name);
    // 3 thinking + 7 text + 4 non-empty tool-argument deltas (the signature delta carries no text)
    assert.equal(result.deltaEvents, 14, name);
  }
});

test('Anthropic stream cut mid-way: input and cache counts from message_start, output estimated', () => {
  const text = ANTHROPIC_STREAM.toString('utf8');
  const cutAt = Buffer.byteLength(text.slice(0, text.indexOf('event: content_block_start\ndata: {"type":"content_block_start","index":2')));
  for (const [name, chunks] of chunkings(ANTHROPIC_STREAM.subarray(0, cutAt))) {
    const { result, scanner } = runAnthropic(chunks);
    assert.equal(result.complete, false, name);
    assert.equal(result.done, false, name);
    assert.deepEqual(result.usage, { ...ANTHROPIC_EXPECTED, completion_tokens: 1 }, name);
    assert.equal(result.deltaEvents, 10, name);
    const u = scanner.usageOrEstimate(999);
    assert.equal(u.estimated, true);
    assert.equal(u.promptIncludesCache, false);
    assert.equal(u.prompt_tokens, 12, 'the real input count, not the caller estimate');
    assert.equal(u.cache_read_input_tokens, 18000);
    assert.equal(u.cache_creation_input_tokens, 2048);
    assert.equal(u.completion_tokens, result.estimatedCompletionTokens);
    assert.ok(u.completion_tokens >= 10);
  }
});

test('Anthropic stream cut before message_start completes: caller estimate, no usage', () => {
  const { result, scanner } = runAnthropic([ANTHROPIC_STREAM.subarray(0, 120)]);
  assert.equal(result.usage, undefined);
  assert.equal(result.id, undefined);
  const u = scanner.usageOrEstimate(777);
  assert.deepEqual(u, { promptIncludesCache: false, prompt_tokens: 777, completion_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, estimated: true });
});

function aev(type: string, data: object, withEventLine = true): string {
  return `${withEventLine ? `event: ${type}\n` : ''}data: ${JSON.stringify({ type, ...data })}\n\n`;
}

test('Anthropic: message_delta repeating input/cache counts — largest value of each field wins', () => {
  const stream =
    aev('message_start', { message: { id: 'msg_1', model: 'claude-opus-4-5-20251101', usage: { input_tokens: 100, cache_read_input_tokens: 50, cache_creation_input_tokens: 0, output_tokens: 2 } } }) +
    aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'hello world' } }) +
    // cumulative: output grows; a later report with more cache writes (e.g. server tools) counts
    aev('message_delta', { delta: { stop_reason: null }, usage: { output_tokens: 40, cache_creation_input_tokens: 30 } }) +
    // a proxy's placeholder zero must not erase the real input count
    aev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 0, output_tokens: 55, cache_read_input_tokens: 50 } }) +
    aev('message_stop', {});
  const buf = Buffer.from(stream);
  for (const [name, chunks] of chunkings(buf)) {
    const { result } = runAnthropic(chunks);
    assert.deepEqual(result.usage, { promptIncludesCache: false, prompt_tokens: 100, completion_tokens: 55, cache_read_input_tokens: 50, cache_creation_input_tokens: 30 }, name);
  }
});

test('Anthropic: events without `event:` lines, CRLF, one-hour cache writes', () => {
  const stream = [
    aev('message_start', { message: { id: 'msg_2', model: 'claude-haiku-4-5', usage: { input_tokens: 7, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 400 }, output_tokens: 1 } } }, false),
    aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'x' } }, false),
    // `type` not the first key: found by walking the data object
    `data: ${JSON.stringify({ usage: { output_tokens: 3 }, delta: { stop_reason: 'end_turn' }, type: 'message_delta' })}\n\n`,
    aev('message_stop', {}, false),
  ]
    .join('')
    .replace(/\n/g, '\r\n');
  const buf = Buffer.from(stream);
  for (const [name, chunks] of chunkings(buf)) {
    const { result } = runAnthropic(chunks);
    assert.equal(result.id, 'msg_2', name);
    assert.deepEqual(result.usage, { promptIncludesCache: false, prompt_tokens: 7, completion_tokens: 3, cache_read_input_tokens: 0, cache_creation_input_tokens: 1000, cache_creation_1h_input_tokens: 400 }, name);
    assert.equal(result.done, true, name);
  }
});

test('Anthropic: an error event ends the stream with the usage seen so far', () => {
  const stream =
    aev('message_start', { message: { id: 'msg_3', model: 'claude-sonnet-4-5', usage: { input_tokens: 40, output_tokens: 1 } } }) +
    aev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'abcdefgh' } }) +
    aev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
  const { result, scanner } = runAnthropic([Buffer.from(stream)]);
  assert.equal(scanner.sawError, true);
  assert.equal(result.complete, false);
  const u = scanner.usageOrEstimate(0);
  assert.equal(u.prompt_tokens, 40);
  assert.equal(u.completion_tokens, 2); // 8 text bytes / 4
  assert.equal(u.estimated, true);
});

test('scanners are cheap on chunks without usage: a few steps per byte, nothing parsed', () => {
  const events = OPENAI_STREAM.toString('utf8').split(/(?<=\n\n)/);
  const content = Buffer.from(events.slice(1, -3).join('').repeat(50));
  const s = new OpenAIUsageScanner({ hideUsageChunk: true });
  const before = scanSteps.n;
  for (let i = 0; i < 200; i++) assert.equal(s.push(content), content);
  // Bytes looked at (src/scan-steps.ts): 5 per byte for the framing, each event's lines and the
  // hops over its braces, and a little for each delta; a JSON.parse of every event would add 2.
  const perByte = (scanSteps.n - before) / (200 * content.length);
  assert.ok(perByte < 6, `${perByte.toFixed(2)} steps per byte`);
});

test('a Responses API stream (Codex through a Responses deployment): usage and id come from response.completed', () => {
  const stream = readFileSync(path.resolve(__dirname, '../../../test/fixtures/conformance/openai-responses-stream.sse'));
  for (const pieces of [[stream], splitRandom(stream, 7, 17)]) {
    const s = new OpenAIUsageScanner();
    const out = Buffer.concat(pieces.map((p) => s.push(p)).concat(s.end() ?? []));
    assert.equal(out.toString(), stream.toString(), 'the stream passes untouched');
    const r = s.result();
    assert.equal(r.complete, true);
    assert.equal(r.id, 'resp_68f2a1c3e9b08190a4d5c6b7e8f90a1b');
    assert.deepEqual([r.usage!.prompt_tokens, r.usage!.completion_tokens, r.usage!.cache_read_input_tokens], [9120, 214, 8064]);
  }
});
