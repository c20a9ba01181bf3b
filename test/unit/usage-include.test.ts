// ensureIncludeUsage / planIncludeUsage: the gateway asks OpenAI for stream usage by splicing
// `stream_options.include_usage: true` into the top-level object — every other byte unchanged,
// a nested `stream_options` never touched, and the client's own choice remembered so its usage
// chunk is hidden only when it did not ask for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits, ensureIncludeUsage, includeUsageEdit, planIncludeUsage } from '../../src/accounting/usage-include';
import { scanBody } from '../../src/gateway/body-scan';

const STREAM = { stream: true };

function plan(text: string) {
  const body = Buffer.from(text);
  const p = planIncludeUsage(body, STREAM);
  return { body, out: p.body.toString('utf8'), hide: p.hideUsageChunk, same: p.body === body };
}

/** JSON.parse of the result equals the input's with only stream_options.include_usage set. */
function parsesAsExpected(input: string, output: string): void {
  const want = JSON.parse(input) as Record<string, unknown>;
  const so = want.stream_options;
  want.stream_options = { ...(typeof so === 'object' && so !== null ? so : {}), include_usage: true };
  assert.deepEqual(JSON.parse(output), want);
}

/** The output is the input with exactly one insertion or one replacement; returns the edit. */
function singleEdit(input: string, output: string): { at: number; removed: string; added: string } {
  let a = 0;
  while (a < input.length && a < output.length && input[a] === output[a]) a++;
  let bi = input.length;
  let bo = output.length;
  while (bi > a && bo > a && input[bi - 1] === output[bo - 1]) {
    bi--;
    bo--;
  }
  return { at: a, removed: input.slice(a, bi), added: output.slice(a, bo) };
}

const MESSAGES = '"messages":[{"role":"user","content":"hi"}]';

test('no stream_options: appended before the closing brace, nothing else changes', () => {
  const input = `{"model":"gpt-4o",${MESSAGES},"stream":true}`;
  const r = plan(input);
  assert.equal(r.out, `{"model":"gpt-4o",${MESSAGES},"stream":true,"stream_options":{"include_usage":true}}`);
  assert.equal(r.hide, true);
  parsesAsExpected(input, r.out);
});

test('trailing whitespace and newlines after the object are kept', () => {
  const input = `{\n  "model": "gpt-4o",\n  "stream": true\n}\n\n`;
  const r = plan(input);
  assert.equal(r.out, `{\n  "model": "gpt-4o",\n  "stream": true\n,"stream_options":{"include_usage":true}}\n\n`);
  parsesAsExpected(input, r.out);
});

test('include_usage already true: the very same buffer, usage chunk not hidden', () => {
  for (const input of [
    `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}`,
    `{"stream_options" : { "include_usage" : true } , "model":"gpt-4o","stream":true}`,
    `{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true}}`,
  ]) {
    const r = plan(input);
    assert.equal(r.same, true, input);
    assert.equal(r.hide, false);
  }
});

test('include_usage false (or null, or a string): replaced by true, hidden from the client', () => {
  for (const [input, expected] of [
    [`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false}}`, `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}`],
    [`{"stream":true,"stream_options": {\n  "include_usage" :\tfalse ,\n  "include_obfuscation": false\n}}`, `{"stream":true,"stream_options": {\n  "include_usage" :\ttrue ,\n  "include_obfuscation": false\n}}`],
    [`{"stream":true,"stream_options":{"include_usage":null}}`, `{"stream":true,"stream_options":{"include_usage":true}}`],
    [`{"stream":true,"stream_options":{"include_usage":"yes"}}`, `{"stream":true,"stream_options":{"include_usage":true}}`],
    // escaped key spelling: JSON.parse reads it as include_usage, so do we
    [`{"stream":true,"stream_options":{"include\\u005fusage":false}}`, `{"stream":true,"stream_options":{"include\\u005fusage":true}}`],
    // duplicate keys: the last one is the one JSON.parse keeps
    [`{"stream":true,"stream_options":{"include_usage":true,"include_usage":false}}`, `{"stream":true,"stream_options":{"include_usage":true,"include_usage":true}}`],
  ] as const) {
    const r = plan(input);
    assert.equal(r.out, expected);
    assert.equal(r.hide, true);
    parsesAsExpected(input, r.out);
  }
});

test('other stream_options keys, empty objects, null: include_usage added inside', () => {
  for (const [input, expected] of [
    [`{"stream":true,"stream_options":{"include_obfuscation":false}}`, `{"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}`],
    [`{"stream":true,"stream_options":{}}`, `{"stream":true,"stream_options":{"include_usage":true}}`],
    [`{"stream":true,"stream_options":{ \n }}`, `{"stream":true,"stream_options":{"include_usage":true \n }}`],
    [`{"stream":true,"stream_options":null}`, `{"stream":true,"stream_options":{"include_usage":true}}`],
    [`{"stream_options" :  null ,"stream":true}`, `{"stream_options" :  {"include_usage":true} ,"stream":true}`],
  ] as const) {
    const r = plan(input);
    assert.equal(r.out, expected);
    assert.equal(r.hide, true);
    parsesAsExpected(input, r.out);
  }
});

test('a nested stream_options (message content, metadata, tools) is never touched', () => {
  const nested = [
    // a real nested object after the (absent) top-level one
    `{"model":"gpt-4o","stream":true,"metadata":{"stream_options":{"include_usage":false}}}`,
    // inside message content (escaped JSON text)
    `{"model":"gpt-4o","messages":[{"role":"user","content":"send {\\"stream_options\\": {\\"include_usage\\": false}}"}],"stream":true}`,
    // a string ending in \\"stream_options
    `{"model":"gpt-4o","messages":[{"role":"user","content":"x \\"stream_options"}],"stream":true}`,
    // inside tools (a JSON schema property named stream_options)
    `{"model":"gpt-4o","stream":true,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"stream_options":{"type":"object"}}}}}]}`,
  ];
  for (const input of nested) {
    const r = plan(input);
    const edit = singleEdit(input, r.out);
    assert.equal(edit.removed, '', input);
    assert.equal(edit.added, ',"stream_options":{"include_usage":true}', input);
    assert.equal(edit.at, input.lastIndexOf('}'), input);
    parsesAsExpected(input, r.out);
  }
  // The top-level one sits BEFORE a nested one: only the top-level one is edited.
  const input = `{"stream":true,"stream_options":{"include_usage":false},"metadata":{"stream_options":{"include_usage":false}},"messages":[{"role":"user","content":"\\"stream_options\\":{}"}]}`;
  const r = plan(input);
  assert.equal(r.out, input.replace('"stream_options":{"include_usage":false},"metadata"', '"stream_options":{"include_usage":true},"metadata"'));
  parsesAsExpected(input, r.out);
});

test('duplicate top-level stream_options: the last one (the one JSON.parse keeps) is edited', () => {
  const input = `{"stream":true,"stream_options":{"include_usage":true},"model":"m","stream_options":{"include_usage":false}}`;
  const r = plan(input);
  assert.equal(r.out, `{"stream":true,"stream_options":{"include_usage":true},"model":"m","stream_options":{"include_usage":true}}`);
  assert.equal(r.hide, true);
});

test('not streaming, refused by the body scan, not an object, or a bad stream_options: untouched', () => {
  const b = Buffer.from('{"model":"gpt-4o","stream":false}');
  assert.equal(ensureIncludeUsage(b, { stream: false }), b);
  assert.equal(ensureIncludeUsage(b, { stream: true, error: 'bad' }), b);
  for (const text of ['[1,2]', '', '   ', '{"stream":true,"stream_options":"x"}', '{"stream":true,"stream_options":5}', '{"stream":true']) {
    const t = Buffer.from(text);
    const p = planIncludeUsage(t, STREAM);
    assert.equal(p.body, t, text);
    assert.equal(p.hideUsageChunk, false);
  }
  const empty = planIncludeUsage(Buffer.from('{ }'), STREAM);
  assert.equal(empty.body.toString(), '{ "stream_options":{"include_usage":true}}');
});

test('with the real body scan, on a Claude-Code-sized body', () => {
  const messages = Array.from({ length: 400 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `turn ${i}: ${'lorem ipsum {"stream_options":{"include_usage":false}} '.repeat(6)}` }));
  const text = JSON.stringify({ model: 'gpt-4.1', messages, tools: [{ type: 'function', function: { name: 'edit', parameters: { type: 'object', properties: { stream_options: { type: 'string' } } } } }], stream: true });
  const body = Buffer.from(text);
  const scan = scanBody(body);
  assert.equal(scan.error, undefined);
  // Correctness only: how the cost grows with the body is counted in linear-body-scan.test.ts.
  const out = ensureIncludeUsage(body, scan);
  assert.equal(out.toString(), text.slice(0, -1) + ',"stream_options":{"include_usage":true}}');
});

/** mulberry32 */
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

test('500 random bodies: the result always parses to the input plus include_usage true', () => {
  const r = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const soChoices = [undefined, null, {}, { include_usage: true }, { include_usage: false }, { include_obfuscation: true }, { include_obfuscation: false, include_usage: false }] as const;
  for (let n = 0; n < 500; n++) {
    const members: Array<[string, unknown]> = [
      ['model', 'gpt-4o'],
      ['messages', [{ role: 'user', content: pick(['hi', '"stream_options": {}', 'stream_options']) }]],
      ['stream', true],
    ];
    if (r() < 0.4) members.push(['metadata', { stream_options: { include_usage: false } }]);
    const so = pick(soChoices);
    if (so !== undefined) members.splice(Math.floor(r() * (members.length + 1)), 0, ['stream_options', so]);
    const text = JSON.stringify(Object.fromEntries(members), null, pick([0, 1, 2, '\t']));
    const p = planIncludeUsage(Buffer.from(text), STREAM);
    parsesAsExpected(text, p.body.toString());
    const clientAsked = typeof so === 'object' && so !== null && (so as { include_usage?: boolean }).include_usage === true;
    assert.equal(p.hideUsageChunk, !clientAsked, text);
    const edit = singleEdit(text, p.body.toString());
    assert.ok(edit.removed.length <= 5, `one small edit: ${JSON.stringify(edit)}`);
  }
});

test('includeUsageEdit + applyEdits: the model swap and include_usage in one copy', () => {
  const text = '{"model":"my-gpt","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":false}}';
  const body = Buffer.from(text);
  const scan = scanBody(body);
  const e = includeUsageEdit(body, scan);
  assert.equal(e.hideUsageChunk, true);
  const modelEdit = { at: scan.modelStart, remove: scan.modelEnd - scan.modelStart, insert: JSON.stringify('gpt-4o-2024-08-06') };
  const out = applyEdits(body, [e.edit, modelEdit]);
  assert.equal(out.toString(), '{"model":"gpt-4o-2024-08-06","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}');
  assert.equal(applyEdits(body, [null]), body);
  assert.throws(() => applyEdits(body, [{ at: 5, remove: 3, insert: '' }, { at: 6, remove: 0, insert: 'x' }]), RangeError);
});

test('a stream_options span recorded by the body scan is used as is (no search)', () => {
  const text = '{"stream":true,"stream_options":{"include_usage":false}}';
  const body = Buffer.from(text);
  const vs = text.indexOf('{', 1);
  const e = includeUsageEdit(body, { stream: true, streamOptionsStart: vs, streamOptionsEnd: text.length - 1 });
  assert.deepEqual(e.edit, { at: text.indexOf('false'), remove: 5, insert: 'true' });
  // -1: the scan saw no top-level stream_options, even if the bytes appear nested
  const nested = Buffer.from('{"stream":true,"metadata":{"stream_options":{}}}');
  const n = includeUsageEdit(nested, { stream: true, streamOptionsStart: -1, streamOptionsEnd: -1 });
  assert.equal(applyEdits(nested, [n.edit]).toString(), '{"stream":true,"metadata":{"stream_options":{}},"stream_options":{"include_usage":true}}');
});
