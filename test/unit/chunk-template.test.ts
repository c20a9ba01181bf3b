// The OpenAI → Anthropic stream translator's chunks read without JSON.parse: the worker's chunk
// shapes (src/translate/chunk-shapes.ts) and each stream's text template made from one
// (src/translate/chunk-template.ts). A stream read through them must give exactly what the full
// parse of every chunk gives. The reference is the same translator fed the same chunks as parsed
// objects (pushChunk), which never takes either path; the streams are random (contents with
// escapes, quotes, control characters, astral characters; other fields that change mid-stream;
// tool calls, reasoning, usage and finish chunks between text chunks; chunks whose bytes differ
// from a shape's; ids, created and usage counts that differ from stream to stream).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OpenAIToAnthropicStream } from '../../src/translate';
import { forgetShapes, learnShape, MAX_SHAPES, shapeOf, shapesKept } from '../../src/translate/chunk-shapes';
import { DONE } from '../../src/translate/sse';

const CTX = { model: 'claude-sonnet-4-5', estimatedInputTokens: 100, messageId: 'msg_test' };
type Obj = Record<string, unknown>;

function textChunk(content: string, extra: Obj = {}): Obj {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-x', choices: [{ index: 0, delta: { content }, finish_reason: null }], usage: null, ...extra };
}

/** The stream as raw SSE bytes fed `size` bytes at a time (0: whole). */
function fedAsBytes(events: string[], size: number): string {
  const t = new OpenAIToAnthropicStream(CTX);
  const bytes = Buffer.from(events.join(''));
  let out = '';
  const step = size || bytes.length;
  for (let at = 0; at < bytes.length; at += step) out += t.push(bytes.subarray(at, at + step));
  return out + t.end();
}

/**
 * The translator's output fed as SSE text and as SSE bytes, whole and split anywhere (the template
 * path open), and as objects (never); the bytes must give what the text gives.
 */
function both(chunks: (Obj | string)[]): { sse: string; objects: string; templated: number; shaped: number } {
  const a = new OpenAIToAnthropicStream(CTX);
  let sse = '';
  const events = [...chunks.map((c) => `data: ${typeof c === 'string' ? c : JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'];
  for (const e of events) sse += a.push(e);
  sse += a.end();
  for (const size of [0, 1, 7, 61]) assert.equal(fedAsBytes(events, size), sse, `the stream as bytes ${size || 'all'} at a time`);
  const b = new OpenAIToAnthropicStream(CTX);
  let objects = '';
  for (const c of chunks) {
    let o: unknown;
    try {
      o = typeof c === 'string' ? JSON.parse(c) : c;
    } catch {
      continue; // not JSON: the parser drops it too
    }
    if (typeof o === 'object' && o !== null && !Array.isArray(o)) objects += b.pushChunk(o as Obj);
  }
  objects += b.pushChunk(DONE) + b.end();
  return { sse, objects, templated: a.templated, shaped: a.shaped };
}

const finish = (extra: Obj = {}): Obj => ({ ...textChunk('', extra), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });

test('a plain stream of text chunks is read through the template after its first text chunk', () => {
  forgetShapes();
  const chunks = [textChunk(''), ...Array.from({ length: 20 }, (_, i) => textChunk(`tok${i} `)), finish()];
  const r = both(chunks);
  assert.equal(r.sse, r.objects);
  // The first chunk teaches the text chunk's shape; the next is read through it, and its bytes
  // around the content become the stream's template for the 19 after it.
  assert.equal(r.shaped, 1);
  assert.equal(r.templated, 19);
});

test("a worker's third stream of a deployment parses none of its chunks: other ids, created and usage counts", () => {
  forgetShapes();
  const stream = (n: number): Obj[] => {
    const extra = { id: `chatcmpl-${n}x${'y'.repeat(n)}`, created: 1700000000 + n * 977, service_tier: 'default' };
    return [
      { ...textChunk('', extra), choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...Array.from({ length: 6 }, (_, i) => textChunk(`s${n} tok${i} `, { ...extra, obfuscation: 'ab'.repeat(1 + ((n + i) % 5)) })),
      finish(extra),
      {
        ...textChunk('', extra),
        choices: [],
        usage: { prompt_tokens: 1000 * n + 7, completion_tokens: 6 + n, total_tokens: 1013 * n, prompt_tokens_details: { cached_tokens: 300 * n }, completion_tokens_details: { reasoning_tokens: 0 } },
      },
    ];
  };
  for (let n = 1; n <= 3; n++) {
    const chunks = stream(n);
    const r = both(chunks);
    assert.equal(r.sse, r.objects, `stream ${n}`);
    // The first stream's chunks teach the shapes (both() reads it five times, each time learning
    // at most LEARN_TRIES chunks): every chunk of the streams after it is read from its bytes.
    if (n === 1) assert.ok(r.shaped + r.templated < chunks.length);
    else assert.equal(r.shaped + r.templated, chunks.length, `stream ${n}: every chunk read from its bytes`);
  }
  // The usage chunk's counts are this stream's, not the ones its shape was learnt from.
  assert.match(both(stream(3)).sse, /"input_tokens":2107,"cache_creation_input_tokens":0,"cache_read_input_tokens":900,"output_tokens":9\}/);
});

test("OpenAI's chunks, each with an obfuscation string of its own length, are read through the template", () => {
  forgetShapes();
  const pad = (i: number) => 'xYz09'.repeat(8).slice(0, 1 + ((i * 7) % 13));
  const chunks = Array.from({ length: 20 }, (_, i) => textChunk(`tok${i} `, { service_tier: 'default', obfuscation: pad(i) }));
  // An escaped quote in one content, an escape in one obfuscation, a changed field in another.
  chunks.push(textChunk('say \"hi\"', { service_tier: 'default', obfuscation: 'a\\b' }));
  chunks.push(textChunk('x', { service_tier: 'flex', obfuscation: 'q' }));
  // Between the two strings, as long as the template's bytes there: only those bytes tell.
  chunks.push({ ...textChunk('y', { service_tier: 'default', obfuscation: 'q' }), choices: [{ index: 0, delta: { content: 'y' }, finish_reason: 'st' }] });
  const r = both(chunks);
  assert.equal(r.sse, r.objects);
  assert.equal(r.shaped + r.templated, 20, 'every text chunk after the first, the changed service_tier apart');
});

test('contents the template must not take as they are: escapes, quotes, control characters, non-strings', () => {
  forgetShapes();
  const base = JSON.stringify(textChunk('first'));
  const around = (middle: string) => base.replace('"first"', middle);
  const chunks: (Obj | string)[] = [
    textChunk('first'),
    around('"a\\"b"'), // an escaped quote
    around('"line\\nbreak \\u00e9 \\ud83d\\ude00"'), // escapes, a surrogate pair
    around('"tab\there"'), // a raw control character: not JSON, dropped by both
    around('"a","x":"y"'), // two members where one string was
    around('null'), // not a string
    around('"é ✓ 😀"'),
    around('""'), // empty: no delta
    around('"ok" '), // a string followed by whitespace: still that string
    around('"unterminated'), // not JSON
    around('"bad \\x escape"'), // an escape JSON does not have: not JSON
    textChunk('last'),
  ];
  const r = both(chunks);
  assert.equal(r.sse, r.objects);
  assert.ok(r.shaped + r.templated >= 5, `read from their bytes: ${r.shaped + r.templated}`);
});

test('a chunk whose other fields change is parsed in full', () => {
  forgetShapes();
  const r = both([
    textChunk('a'),
    textChunk('b'),
    textChunk('c', { model: 'gpt-y' }),
    textChunk('d', { usage: { prompt_tokens: 3, completion_tokens: 4 } }),
    { ...textChunk('e'), choices: [{ index: 0, delta: { content: 'e', reasoning_content: 'think' }, finish_reason: null }] },
    // As long as the template's `null` after the content: only the bytes after the content tell.
    { ...textChunk('f'), choices: [{ index: 0, delta: { content: 'f' }, finish_reason: 'st' }] },
    { ...textChunk('g'), choices: [{ index: 0, delta: { content: 'g' }, finish_reason: 'stop' }] },
  ]);
  assert.equal(r.sse, r.objects);
  assert.equal(r.shaped + r.templated, 1, 'only "b" has the bytes of a chunk before it');
});

test('a shape takes any token of its kind in its holes, and nothing else', () => {
  forgetShapes();
  const usage = (p: string, c: string) =>
    `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-x","choices":[],"usage":{"prompt_tokens":${p},"completion_tokens":${c},"prompt_tokens_details":{"cached_tokens":0}}}`;
  const learnt = usage('12', '3');
  assert.equal(learnShape(learnt, JSON.parse(learnt) as Obj), true);
  for (const [p, c] of [['0', '7'], ['-0', '1.5e3'], ['123456789012', '2E-2'], ['4.25', '0.0']]) {
    const data = usage(p, c);
    const shape = shapeOf(data);
    assert.ok(shape, data);
    assert.deepEqual(shape.fill(data), JSON.parse(data), data);
  }
  for (const [p, c] of [['01', '1'], ['1.', '1'], ['+1', '1'], ['1e', '1'], ['"1"', '1'], ['null', '1'], ['1 ', '1'], ['.5', '1']]) assert.equal(shapeOf(usage(p, c)), null, usage(p, c));
  // A string hole: any string token, escapes decoded as JSON.parse decodes them.
  const text = JSON.stringify(textChunk('chatcmpl-1')); // the content's bytes are also the id's
  assert.equal(learnShape(text, JSON.parse(text) as Obj), true);
  const escaped = text.replace('"content":"chatcmpl-1"', '"content":"\\u00e9\\n\\"q\\""');
  assert.deepEqual(shapeOf(escaped)?.fill(escaped), JSON.parse(escaped));
  const bad = text.replace('"content":"chatcmpl-1"', '"content":"\\x"');
  assert.equal(shapeOf(bad)?.fill(bad) ?? null, null, 'an escape JSON does not have: left to the full parse');
  // Once read, the strings written in are let go (each a view into the upstream read it came in).
  const read = shapeOf(escaped)!;
  const chunk = read.fill(escaped)!;
  read.clear();
  assert.equal(chunk.id, '');
  assert.equal(((chunk.choices as Obj[])[0]!.delta as Obj).content, '');
  assert.equal(chunk.created, 1700000000, 'numbers hold nothing: left as they are');
});

test('learnShape keeps only what it can place and prove', () => {
  forgetShapes();
  const learn = (c: Obj | string) => {
    const data = typeof c === 'string' ? c : JSON.stringify(c);
    return learnShape(data, JSON.parse(data) as Obj);
  };
  // Not a chunk a shape is kept of: tool calls, reasoning, an error, several choices.
  assert.equal(learn({ ...textChunk(''), choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }, finish_reason: null }] }), null);
  assert.equal(learn({ ...textChunk(''), choices: [{ index: 0, delta: { reasoning_content: 'x' }, finish_reason: null }] }), null);
  assert.equal(learn({ error: { message: 'no' } }), null);
  assert.equal(learn({ ...textChunk('a'), choices: [{ index: 0, delta: { content: 'a' } }, { index: 1, delta: { content: 'b' } }] }), null);
  // A duplicate key: JSON.parse keeps the last value, which is not where the first key is.
  assert.equal(learn('{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}],"id":"b"}'), false);
  // Spaces between a key and its value: the value is not found after its key.
  assert.equal(learn('{"id": "a","choices":[{"index":0,"delta":{"content":"x"}}]}'), false);
  assert.equal(shapesKept(), 0);
  // The newest MAX_SHAPES are kept; a search from any place finds a shape kept anywhere.
  for (let i = 0; i < MAX_SHAPES + 3; i++) assert.equal(learn(textChunk('x', { model: `m${i}` })), true);
  assert.equal(shapesKept(), MAX_SHAPES);
  for (let from = 0; from < 2 * MAX_SHAPES; from++) assert.ok(shapeOf(JSON.stringify(textChunk('y', { model: `m${MAX_SHAPES + 2}` })), from), `the newest, from ${from}`);
  assert.equal(shapeOf(JSON.stringify(textChunk('y', { model: 'm0' }))), null, 'the oldest let go');
});

test('random streams: the shapes, the template and the full parse agree byte for byte', () => {
  forgetShapes();
  const content = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\n', '\u0000', '😀', 'tok '));
  const chunk = fc.oneof(
    { weight: 6, arbitrary: content.map((s) => textChunk(s)) },
    { weight: 1, arbitrary: fc.tuple(content, fc.constantFrom('gpt-x', 'gpt-y')).map(([s, model]) => textChunk(s, { model })) },
    { weight: 3, arbitrary: fc.tuple(content, fc.string()).map(([s, obfuscation]) => textChunk(s, { obfuscation })) },
    { weight: 1, arbitrary: content.map((s) => ({ ...textChunk(''), choices: [{ index: 0, delta: { role: 'assistant', content: s }, finish_reason: null }] })) },
    { weight: 1, arbitrary: content.map((s) => ({ ...textChunk(''), choices: [{ index: 0, delta: { reasoning_content: s }, finish_reason: null }] })) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(2), content).map(([i, args]) => ({ ...textChunk(''), choices: [{ index: 0, delta: { tool_calls: [{ index: i, id: `call_${i}`, function: { name: 'f', arguments: args } }] }, finish_reason: null }] })),
    },
    // The raw bytes of a text chunk with its content's bytes replaced by anything.
    { weight: 2, arbitrary: fc.tuple(content, fc.string()).map(([s, raw]) => JSON.stringify(textChunk(s)).replace(JSON.stringify(s), raw)) },
    { weight: 1, arbitrary: fc.constantFrom(finish(), finish({ usage: null })) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(), fc.nat(), fc.oneof(fc.double(), fc.integer())).map(([p, c, x]) => ({ ...textChunk(''), choices: [], usage: { prompt_tokens: p, completion_tokens: c, prompt_tokens_details: { cached_tokens: x } } })),
    },
  );
  // Each stream its own id and created, as an upstream gives them: the shapes carry over.
  const stream = fc.tuple(fc.array(chunk, { maxLength: 30 }), fc.string(), fc.nat()).map(([chunks, id, created]) => chunks.map((c) => (typeof c === 'string' ? c : { ...c, id, created })));
  let templated = 0;
  let shaped = 0;
  fc.assert(
    fc.property(stream, (chunks) => {
      const r = both(chunks);
      assert.equal(r.sse, r.objects);
      templated += r.templated;
      shaped += r.shaped;
    }),
    { numRuns: 400 },
  );
  // Both paths must be exercised, not merely allowed.
  assert.ok(templated >= 200, `the template path was taken ${templated} times`);
  assert.ok(shaped >= 200, `the shapes were taken ${shaped} times`);
});
