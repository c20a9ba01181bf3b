// scanBody / replaceModel: reading `model` and `stream` off the top level of a request body without
// parsing it. JSON.parse is the oracle throughout: whatever it says the top-level `model` and
// `stream` are, the scanner must say too, and it must never accept a body JSON.parse rejects at
// the top level (truncations, mismatched brackets, missing separators, trailing data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ROUTING_PARAMS, scanBody, replaceModel, takeMembers, type BodyScan } from '../../src/gateway/body-scan';
import { ASSISTANT, OTHER_ROLE, SYSTEM, USER } from '../../src/gateway/messages-walk';
import { scanSteps } from '../../src/scan-steps';

const scan = (s: string | Buffer): BodyScan => scanBody(typeof s === 'string' ? Buffer.from(s) : s);

/** Scans and asserts the body is accepted; returns the scan. */
function ok(s: string | Buffer): BodyScan {
  const r = scan(s);
  assert.equal(r.error, undefined, `expected ${JSON.stringify(String(s).slice(0, 200))} to be accepted, got ${r.error}`);
  return r;
}

/** Scans and asserts the body is refused with a message matching `re`. */
function bad(s: string | Buffer, re: RegExp = /not valid JSON/): BodyScan {
  const r = scan(s);
  assert.ok(r.error, `expected ${JSON.stringify(String(s).slice(0, 200))} to be refused`);
  assert.match(r.error, re);
  return r;
}

/** The top-level model/stream JSON.parse sees, in the scanner's terms. */
function oracle(text: string): { model: string | undefined; modelNotString: boolean; stream: boolean } {
  const o = JSON.parse(text) as Record<string, unknown>;
  const has = Object.prototype.hasOwnProperty.call(o, 'model');
  return {
    model: typeof o.model === 'string' ? o.model : undefined,
    modelNotString: has && typeof o.model !== 'string',
    stream: o.stream === true,
  };
}

/** Asserts scan agrees with JSON.parse and that the model span holds exactly the model token. */
function agrees(text: string, buf = Buffer.from(text), messages = false): BodyScan {
  const r = scanBody(buf, messages);
  assert.equal(r.error, undefined, `refused valid body: ${r.error}\n${text.slice(0, 300)}`);
  const want = oracle(text);
  assert.equal(r.model, want.model, text.slice(0, 300));
  assert.equal(r.modelNotString, want.modelNotString, text.slice(0, 300));
  assert.equal(r.stream, want.stream, text.slice(0, 300));
  if (want.model !== undefined) {
    assert.ok(r.modelStart >= 0 && r.modelEnd > r.modelStart);
    assert.equal(JSON.parse(buf.toString('utf8', r.modelStart, r.modelEnd)), want.model);
  }
  return r;
}

/** replaceModel changes only the model token; the result parses to the original with model replaced. */
function checkReplace(text: string, newModel: string): void {
  const buf = Buffer.from(text);
  const r = scanBody(buf);
  assert.equal(r.error, undefined);
  const json = JSON.stringify(newModel);
  const out = replaceModel(buf, r, json);
  assert.deepEqual(out.subarray(0, r.modelStart), buf.subarray(0, r.modelStart), 'bytes before the model changed');
  assert.deepEqual(out.subarray(r.modelStart, r.modelStart + Buffer.byteLength(json)), Buffer.from(json));
  assert.deepEqual(out.subarray(r.modelStart + Buffer.byteLength(json)), buf.subarray(r.modelEnd), 'bytes after the model changed');
  assert.equal(out.length, buf.length - (r.modelEnd - r.modelStart) + Buffer.byteLength(json));
  const want = { ...(JSON.parse(text) as object), model: newModel };
  assert.deepEqual(JSON.parse(out.toString('utf8')), want);
  // And the result scans to the new model.
  const again = scanBody(out);
  assert.equal(again.error, undefined);
  assert.equal(again.model, newModel);
}

// ---- basics ---------------------------------------------------------------------------------------

test('reads a plain top-level model and stream', () => {
  const r = ok('{"model":"gpt-4o","stream":true,"messages":[]}');
  assert.equal(r.model, 'gpt-4o');
  assert.equal(r.stream, true);
  assert.equal(r.modelNotString, false);
  assert.equal(r.modelStart, 9);
  assert.equal(r.modelEnd, 17);
});

test('stream false, true and absent', () => {
  assert.equal(ok('{"model":"m","stream":false}').stream, false);
  assert.equal(ok('{"model":"m","stream":true}').stream, true);
  assert.equal(ok('{"model":"m"}').stream, false);
  assert.equal(ok('{"stream" : true , "model":"m"}').stream, true);
  // Only the literal true streams, like `body.stream === true`.
  assert.equal(ok('{"stream":"true"}').stream, false);
  assert.equal(ok('{"stream":1}').stream, false);
  assert.equal(ok('{"stream":null}').stream, false);
  assert.equal(ok('{"stream":{"a":true}}').stream, false);
});

test('an empty object and an object without model', () => {
  const r = ok('{}');
  assert.equal(r.model, undefined);
  assert.equal(r.modelNotString, false);
  assert.equal(r.stream, false);
  assert.equal(r.modelStart, -1);
  assert.equal(ok(' { } ').model, undefined);
  assert.equal(ok('{"messages":[{"role":"user","content":"hi"}]}').model, undefined);
});

test('model keys nested in messages, tools and metadata are ignored', () => {
  const body = JSON.stringify({
    messages: [{ role: 'user', content: 'hi', model: 'nested-in-message', stream: true }],
    tools: [
      {
        name: 'pick',
        input_schema: { type: 'object', properties: { model: { type: 'string', enum: ['x'] }, stream: { type: 'boolean' } } },
      },
    ],
    metadata: { model: 'meta-model', stream: true, deeper: [{ model: 'deeper' }] },
    model: 'top-level',
    extra: { model: 'after' },
  });
  const r = agrees(body);
  assert.equal(r.model, 'top-level');
  assert.equal(r.stream, false);
  // Nested only: no model at all.
  const onlyNested = JSON.stringify({ metadata: { model: 'm', stream: true }, messages: [{ model: 'n' }] });
  const r2 = agrees(onlyNested);
  assert.equal(r2.model, undefined);
  assert.equal(r2.modelNotString, false);
  assert.equal(r2.stream, false);
});

test('"model" and "stream" inside string values are not keys', () => {
  const body = '{"messages":[{"content":"{\\"model\\":\\"evil\\",\\"stream\\":true}"}],"prompt":"\\"model\\":\\"x\\"","model":"real"}';
  const r = agrees(body);
  assert.equal(r.model, 'real');
  assert.equal(r.stream, false);
  // A key whose value is the string "model".
  assert.equal(agrees('{"name":"model","model":"m2"}').model, 'm2');
  assert.equal(agrees('{"modelx":"a","xmodel":"b","Model":"c"}').model, undefined);
  assert.equal(agrees('{"streamx":true,"Stream":true}').stream, false);
});

test('strings with escaped quotes and backslashes', () => {
  assert.equal(agrees('{"model":"a\\"b"}').model, 'a"b');
  assert.equal(agrees('{"model":"\\\\"}').model, '\\');
  assert.equal(agrees('{"model":"\\\\\\\\"}').model, '\\\\');
  assert.equal(agrees('{"model":"a\\\\\\"b"}').model, 'a\\"b');
  assert.equal(agrees('{"x":"\\\\","model":"after-backslash"}').model, 'after-backslash');
  assert.equal(agrees('{"x":"\\"","model":"after-quote"}').model, 'after-quote');
  assert.equal(agrees('{"x":"\\\\\\"}\\\\","model":"tricky"}').model, 'tricky');
  assert.equal(agrees('{"x":["\\\\",{"y":"\\"]}"}],"model":"nested-tricky"}').model, 'nested-tricky');
  assert.equal(agrees('{"model":"\\/\\b\\f\\n\\r\\t"}').model, '/\b\f\n\r\t');
});

test('unicode in values, keys and the model', () => {
  assert.equal(agrees('{"model":"modèle-ü-😀"}').model, 'modèle-ü-😀');
  assert.equal(agrees('{"model":"\\u00e9\\ud83d\\ude00"}').model, 'é😀');
  assert.equal(agrees('{"ключ":"значение","模型":"x","model":"日本"}').model, '日本');
  assert.equal(agrees('{"x":"\u2028\u2029","model":"ls"}').model, 'ls');
  // Byte offsets, not character offsets.
  const r = ok('{"é":"😀","model":"m"}');
  assert.equal(Buffer.from('{"é":"😀","model":"m"}').toString('utf8', r.modelStart, r.modelEnd), '"m"');
});

test('whitespace everywhere', () => {
  const body = ' \n\t\r{ \n "model" \t : \r\n "ws" \n , \t "stream"\n:\ntrue\t,"a" : [ 1 , { "b" : null } ] \r\n } \n\t ';
  const r = agrees(body);
  assert.equal(r.model, 'ws');
  assert.equal(r.stream, true);
});

test('duplicate keys: the last one wins, like JSON.parse', () => {
  assert.equal(agrees('{"model":"first","model":"second"}').model, 'second');
  assert.equal(agrees('{"stream":true,"stream":false}').stream, false);
  assert.equal(agrees('{"stream":false,"stream":true}').stream, true);
  const r = agrees('{"model":"s","model":5}');
  assert.equal(r.model, undefined);
  assert.equal(r.modelNotString, true);
  const r2 = agrees('{"model":null,"model":"s"}');
  assert.equal(r2.model, 's');
  assert.equal(r2.modelNotString, false);
  // The span points at the last model value, so a replacement is what JSON.parse sees.
  checkReplace('{"model":"first","x":1,"model":"second"}', 'third');
});

test('model that is not a string sets modelNotString', () => {
  for (const v of ['5', '-1.5e3', 'null', 'true', 'false', '{"name":"gpt"}', '["gpt-4o"]', '{}', '[]']) {
    const r = agrees(`{"model":${v},"stream":true}`);
    assert.equal(r.modelNotString, true, v);
    assert.equal(r.model, undefined, v);
    assert.equal(r.stream, true, v);
  }
});

test('model with an invalid escape is refused, not thrown', () => {
  bad('{"model":"\\x"}', /bad escape in "model"/);
  bad('{"model":"\\u12"}', /bad escape/);
  // A raw control character in the model string is not valid JSON either.
  bad('{"model":"a\nb"}', /not valid JSON/);
});

// ---- what is not a JSON object -------------------------------------------------------------------

test('empty and whitespace-only bodies', () => {
  bad('', /empty/);
  bad(' \n\t\r ', /empty/);
  bad(Buffer.alloc(0), /empty/);
});

test('JSON that is not an object', () => {
  for (const s of ['[]', '[{"model":"x"}]', '"model"', '42', '-1', 'true', 'false', 'null', '  [1]']) {
    bad(s, /must be a JSON object/);
  }
});

test('garbage is not valid JSON', () => {
  for (const s of ['hello', '<xml/>', 'model=gpt-4o&stream=true', '}', ']', ':', ',', '\u0000', '{{', '{]', '{"model"']) {
    const r = bad(s);
    assert.doesNotMatch(r.error!, /must be a JSON object/, s);
  }
});

test('garbage that merely starts like a JSON literal is reported as not valid JSON', () => {
  for (const s of ['foo=bar', 'nonsense', 'temperature=1', '1abc']) bad(s, /not valid JSON/);
});

test('structural errors are refused with a clear message', () => {
  bad('{"a":[}');
  bad('{"a":{]}');
  bad('{"a":[]]}');
  bad('{"a":{"b":[1,2}]}');
  bad('{"model":"x"');
  bad('{"model":"x",}');
  bad('{,}');
  bad('{"a" 1}', /expected ':'/);
  bad('{"a":1 "b":2}', /expected ',' or '}'/);
  bad('{"a":"x""b":2}', /expected ',' or '}'/);
  bad('{"a":}', /bad value/);
  bad('{"a":,"b":1}', /bad value/);
  bad('{"a"}');
  bad('{a:1}', /expected a key/);
  bad("{'a':1}", /expected a key/);
  bad('{"a":1}}', /data after the object/);
  bad('{"a":1} x', /data after the object/);
  bad('{"a":1}{"b":2}', /data after the object/);
  bad('{"a":1}\n\n,', /data after the object/);
  bad('{"a":"unterminated}');
  bad('{"unterminated:1}');
  bad('{"a":"\\"}');
  bad('{"a":["\\"]}');
});

test('deep nesting is walked without recursion', () => {
  const depth = 200_000;
  const deep = '{"a":' + '['.repeat(depth) + ']'.repeat(depth) + ',"model":"deep"}';
  assert.equal(ok(deep).model, 'deep');
  const mixed = '{"a":' + '{"b":['.repeat(50_000) + ']}'.repeat(50_000) + ',"model":"mixed"}';
  assert.equal(ok(mixed).model, 'mixed');
  bad('{"a":' + '['.repeat(depth) + ']'.repeat(depth - 1) + ',"model":"x"}');
});

test('the brackets a value still has open are matched past the shared stack of 256 and back within it', () => {
  // Around the size of the stack every skip shares, a deeper one grows its own copy: depth, the
  // matching of each closer and the next (shallow) walk must all be as before.
  for (const n of [255, 256, 257, 600]) {
    const nested = '[{"k":'.repeat(n) + '1' + '}]'.repeat(n);
    const s = ok(`{"a":${nested},"model":"m${n}"}`);
    assert.equal(s.model, `m${n}`);
    assert.equal(s.depth, 2 * n + 1);
    // One closer of the wrong kind at the deepest level, and one near the top.
    bad(`{"a":${'[{"k":'.repeat(n)}1${']}'}${'}]'.repeat(n - 1)},"model":"x"}`);
    bad(`{"a":${'[{"k":'.repeat(n)}1${'}]'.repeat(n - 1)}}},"model":"x"}`);
    assert.equal(ok('{"a":[{"b":[1]}],"model":"after"}').depth, 4);
  }
});

test('trailing whitespace after the object is fine', () => {
  assert.equal(ok('{"model":"m"}\n').model, 'm');
  assert.equal(ok('{"model":"m"}\r\n\t ').model, 'm');
});

// ---- truncation ----------------------------------------------------------------------------------

const RICH_BODY = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  stream: true,
  system: [{ type: 'text', text: 'You are "helpful" \\ and \u00e9 😀', cache_control: { type: 'ephemeral' } }],
  messages: [
    { role: 'user', content: 'Say {"model":"x"} and [1,2,3] and \\"q\\"' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'tu_1', name: 'f', input: { model: 'inner', stream: true, n: -1.5e-3, ok: false, z: null } }] },
  ],
  tools: [{ name: 'f', input_schema: { type: 'object', properties: { model: { type: 'string' } }, required: ['model'] } }],
  metadata: { user_id: 'u' },
  temperature: 0.7,
});

test('every truncation of a valid body is refused; only the full body is accepted', () => {
  const full = Buffer.from(RICH_BODY);
  for (let n = 0; n < full.length; n++) {
    let r: BodyScan | undefined;
    assert.doesNotThrow(() => {
      r = scanBody(full.subarray(0, n));
    }, `threw at offset ${n}`);
    assert.ok(r!.error, `accepted a truncated body of ${n}/${full.length} bytes: ${full.toString('utf8', 0, n)}`);
  }
  const r = agrees(RICH_BODY);
  assert.equal(r.model, 'claude-sonnet-4-5');
  assert.equal(r.stream, true);
});

test('truncations of a pretty-printed body with trailing newline agree with JSON.parse', () => {
  const text = JSON.stringify(JSON.parse(RICH_BODY), null, 2) + '\n  ';
  const full = Buffer.from(text);
  for (let n = 0; n <= full.length; n++) {
    const prefix = full.subarray(0, n);
    const r = scanBody(prefix);
    let valid = true;
    try {
      JSON.parse(prefix.toString('utf8'));
    } catch {
      valid = false;
    }
    assert.equal(r.error === undefined, valid, `offset ${n}: scan ${r.error ?? 'accepted'}, JSON.parse ${valid ? 'accepted' : 'refused'}`);
    if (valid) assert.equal(r.model, 'claude-sonnet-4-5');
  }
});

// ---- a Claude-Code-sized body --------------------------------------------------------------------

function claudeCodeBody(modelFirst: boolean): { text: string; obj: Record<string, unknown> } {
  const schema = (depth: number): unknown =>
    depth === 0
      ? { type: 'string', description: 'A "quoted" value with \\ backslash and model: "x"' }
      : {
          type: 'object',
          properties: {
            model: { type: 'string', enum: ['gpt-4o', 'claude'] },
            stream: { type: 'boolean', default: true },
            items: { type: 'array', items: schema(depth - 1) },
            nested: schema(depth - 1),
          },
          required: ['model'],
          additionalProperties: false,
        };
  const tools = Array.from({ length: 18 }, (_, i) => ({
    name: `tool_${i}`,
    description: `Tool ${i}: ${'Runs a command in the sandbox and returns {"model": "fake", "stream": true}. '.repeat(8)}`,
    input_schema: schema(3),
  }));
  const messages: unknown[] = [];
  for (let i = 0; i < 60; i++) {
    messages.push({ role: 'user', content: [{ type: 'text', text: `Turn ${i}: fix the bug in src/app.ts — "model": "evil-${i}" \\ 😀 ${'lorem ipsum '.repeat(60)}` }] });
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Looking at it ${i}` },
        { type: 'tool_use', id: `toolu_${i}`, name: `tool_${i % 18}`, input: { model: 'inner-model', stream: true, command: `grep -r "\\"model\\"" src/ # ${i}` } },
      ],
    });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: `{"model":"result-${i}","stream":true}\n${'x'.repeat(300)}` }] });
  }
  const rest = {
    max_tokens: 32000,
    system: [{ type: 'text', text: 'You are Claude Code, Anthropic\'s official CLI for Claude.', cache_control: { type: 'ephemeral' } }],
    messages,
    tools,
    metadata: { user_id: 'user_abc_account__session_123', model: 'metadata-model', stream: false },
    temperature: 1,
  };
  const obj = modelFirst ? { model: 'claude-sonnet-4-5-20250929', stream: true, ...rest } : { ...rest, stream: true, model: 'claude-sonnet-4-5-20250929' };
  return { text: JSON.stringify(obj), obj };
}

test('a ~150 KB Claude-Code-like body is scanned correctly (model first and last)', () => {
  for (const modelFirst of [true, false]) {
    const { text } = claudeCodeBody(modelFirst);
    const bytes = Buffer.byteLength(text);
    assert.ok(bytes > 120_000 && bytes < 260_000, `body is ${bytes} bytes`);
    const r = agrees(text);
    assert.equal(r.model, 'claude-sonnet-4-5-20250929');
    assert.equal(r.stream, true);
    checkReplace(text, 'anthropic/claude-"replaced"\\');
    // Pretty-printed too.
    agrees(JSON.stringify(JSON.parse(text), null, 2));
  }
});

test('a large body is crossed once: about one step per byte', () => {
  const buf = Buffer.from(claudeCodeBody(false).text);
  const before = scanSteps.n;
  assert.equal(scanBody(buf).model, 'claude-sonnet-4-5-20250929');
  // JSON.parse would decode every string and build the whole object; the scan skips the strings
  // with indexOf and looks at each byte once (src/scan-steps.ts counts what it looks at).
  const perByte = (scanSteps.n - before) / buf.length;
  assert.ok(perByte < 1.05, `${perByte.toFixed(3)} steps per byte`);
});

// ---- replaceModel --------------------------------------------------------------------------------

test('replaceModel is byte-identical except the model value', () => {
  const cases = [
    '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}',
    '{ "messages" : [ ] ,\n  "model" :  "gpt-4o"  ,"stream":true }\n',
    '{"model":"a\\"b\\\\c","x":{"model":"keep"}}',
    '{"a":"é😀","model":"\\u00e9","z":[1,{"model":"keep"}]}',
    '{"model":""}',
  ];
  const names = ['openai/gpt-4o-2024-08-06', 'needs "escaping" \\ here', 'ünïcödé 😀', '', 'line\nbreak\ttab\u0001', '</script>'];
  for (const c of cases) for (const n of names) checkReplace(c, n);
});

test('replaceModel with a longer and a shorter name keeps the rest aligned', () => {
  const text = '{"model":"m","tail":"' + 'x'.repeat(1000) + '"}';
  checkReplace(text, 'a'.repeat(5000));
  checkReplace('{"model":"' + 'long'.repeat(500) + '","b":1}', 'x');
});

// ---- property test against JSON.parse -----------------------------------------------------------

/** mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'b', 'Z', '0', ' ', '"', '\\', '\\\\', '\\"', '/', '{', '}', '[', ']', ',', ':', 'model', 'stream', '"model":"x"', 'true', 'é', 'ü', '日本', '😀', '\n', '\t', '\u0000', '\u001f', '\u2028', '\ud83d\ude00'];

class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  ws(): string {
    if (this.rnd() < 0.6) return '';
    let s = '';
    for (let n = 1 + this.int(3); n > 0; n--) s += this.pick([' ', '\n', '\t', '\r']);
    return s;
  }
  rawString(): string {
    let s = '';
    for (let n = this.int(8); n > 0; n--) s += this.pick(PIECES);
    return s;
  }
  /** A JSON string literal for s, sometimes with \uXXXX or \/ escapes JSON.stringify would not use. */
  strLit(s: string): string {
    if (this.rnd() < 0.7) return JSON.stringify(s);
    let out = '"';
    for (const ch of s) {
      const r = this.rnd();
      if (ch === '/' && r < 0.5) out += '\\/';
      else if (r < 0.3) {
        for (let i = 0; i < ch.length; i++) out += '\\u' + ch.charCodeAt(i).toString(16).padStart(4, '0')[this.rnd() < 0.5 ? 'toUpperCase' : 'toLowerCase']();
      } else out += JSON.stringify(ch).slice(1, -1);
    }
    return out + '"';
  }
  /** Keys: "model"/"stream" spelled plainly (the escaped spelling is a known bug, tested separately). */
  keyLit(k: string): string {
    return k === 'model' || k === 'stream' ? JSON.stringify(k) : this.strLit(k);
  }
  number(): string {
    return this.pick(['0', '-0', '1', '-17', '3.25', '-0.5e-3', '1E+5', '12345678901234567890', '2e10', '0.000001']);
  }
  key(): string {
    return this.rnd() < 0.25 ? this.pick(['model', 'stream', 'messages', 'tools', 'metadata']) : this.rawString();
  }
  value(depth: number): string {
    const r = this.rnd();
    if (depth <= 0 || r < 0.35) {
      const k = this.int(5);
      if (k === 0) return this.strLit(this.rawString());
      if (k === 1) return this.number();
      return this.pick(['true', 'false', 'null']);
    }
    if (r < 0.65) {
      const n = this.int(4);
      const items = Array.from({ length: n }, () => this.ws() + this.value(depth - 1) + this.ws());
      return '[' + (n ? items.join(',') : this.ws()) + ']';
    }
    return this.object(depth - 1, false);
  }
  modelValue(depth: number): string {
    return this.rnd() < 0.75 ? this.strLit(this.rawString() || 'gpt-4o') : this.value(depth);
  }
  streamValue(): string {
    return this.rnd() < 0.8 ? this.pick(['true', 'false']) : this.pick(['null', '1', '"true"', '{"stream":true}', '[true]']);
  }
  object(depth: number, top: boolean): string {
    const entries: string[] = [];
    const n = this.int(top ? 6 : 4);
    for (let i = 0; i < n; i++) entries.push(this.keyLit(this.key()) + this.ws() + ':' + this.ws() + this.value(depth));
    // model / stream at random positions, sometimes twice, at every level.
    for (let m = this.int(3); m > 0; m--) entries.splice(this.int(entries.length + 1), 0, this.keyLit('model') + this.ws() + ':' + this.ws() + this.modelValue(depth));
    for (let m = this.int(3); m > 0; m--) entries.splice(this.int(entries.length + 1), 0, this.keyLit('stream') + this.ws() + ':' + this.ws() + this.streamValue());
    if (entries.length === 0) return '{' + this.ws() + '}';
    return '{' + entries.map((e) => this.ws() + e + this.ws()).join(',') + '}';
  }
  body(): string {
    return this.ws() + this.object(4, true) + this.ws();
  }
}

test('property: scanBody agrees with JSON.parse on 500 random objects (seeded)', () => {
  const g = new Gen(prng(0x5eed));
  let withModel = 0;
  let withNested = 0;
  let streaming = 0;
  for (let i = 0; i < 500; i++) {
    const text = g.body();
    // The generator must produce valid JSON objects; if it does not the test itself is wrong.
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.equal(typeof parsed, 'object');
    const r = agrees(text);
    if (r.model !== undefined) {
      withModel++;
      checkReplace(text, g.rawString());
    }
    if (r.stream) streaming++;
    if (/"model"[\s]*:/.test(JSON.stringify(Object.values(parsed)))) withNested++;
  }
  // The generator covered the interesting cases.
  assert.ok(withModel > 150, `only ${withModel} bodies with a string model`);
  assert.ok(streaming > 50, `only ${streaming} streaming bodies`);
  assert.ok(withNested > 50, `only ${withNested} bodies with nested model keys`);
});

test('property: truncations and single-byte corruptions never throw, and never make a valid body fail', () => {
  const g = new Gen(prng(42));
  for (let i = 0; i < 150; i++) {
    const text = g.body();
    const full = Buffer.from(text);
    // Every truncation: accepted exactly when JSON.parse accepts it (only trailing whitespace may go).
    for (let n = 0; n < full.length; n++) {
      const prefix = full.subarray(0, n);
      let valid = true;
      try {
        JSON.parse(prefix.toString('utf8'));
      } catch {
        valid = false;
      }
      const r = scanBody(prefix);
      assert.equal(r.error === undefined, valid, `seed 42 body ${i} offset ${n}: ${prefix.toString('utf8')}`);
    }
    // Random corruptions: delete, duplicate or overwrite one byte.
    for (let k = 0; k < 20; k++) {
      const at = g.int(full.length);
      const op = g.int(3);
      const mutated =
        op === 0
          ? Buffer.concat([full.subarray(0, at), full.subarray(at + 1)])
          : op === 1
            ? Buffer.concat([full.subarray(0, at + 1), full.subarray(at)])
            : Buffer.concat([full.subarray(0, at), Buffer.from([g.pick([0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x61])]), full.subarray(at + 1)]);
      let r: BodyScan | undefined;
      assert.doesNotThrow(() => {
        r = scanBody(mutated);
      });
      let parsed: unknown;
      let valid = true;
      try {
        parsed = JSON.parse(mutated.toString('utf8'));
      } catch {
        valid = false;
      }
      if (valid && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        // Still a valid object: the scan must agree with JSON.parse.
        agrees(mutated.toString('utf8'), mutated);
      } else if (!valid && r!.error === undefined) {
        // Lax about nested content by design (the upstream judges it), but the top level must
        // still be a closed object: the last non-space byte is the closing brace.
        assert.equal(mutated.toString('latin1').trimEnd().at(-1), '}');
      }
    }
  }
});

// ---- keys spelled with escapes -------------------------------------------------------------------

test('a "model" key spelled with escapes is the model JSON.parse (and the upstream) sees', () => {
  agrees('{"model":"allowed-model","mod\\u0065l":"forbidden-model"}');
  agrees('{"stre\\u0061m":true,"model":"m"}');
  agrees('{"m\\u006fdel":5}');
});

test('routing parameters (fallbacks, disable_fallbacks) are flagged; other keys are not', () => {
  assert.equal(ok('{"model":"m","fallbacks":["a"]}').routingParams, true);
  assert.equal(ok('{"disable_fallbacks":true,"model":"m"}').routingParams, true);
  assert.equal(ok('{"model":"m","fallback":["a"],"messages":[{"fallbacks":1}]}').routingParams, undefined);
});

test('takeMembers: the listed members parsed out, the others byte for byte, whatever their place', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['{"model":"m","fallbacks":["a",{"model":"b"}],"messages":[{"role":"user","content":"x, y}"}]}', { fallbacks: ['a', { model: 'b' }] }],
    ['{"fallbacks":[],"model":"m"}', { fallbacks: [] }],
    ['{ "model" : "m" , "disable_fallbacks" : true }', { disable_fallbacks: true }],
    ['{"disable_fallbacks":false,"fallbacks":null}', { disable_fallbacks: false, fallbacks: null }],
    ['{"model":"m","temperature":0.5}', {}],
  ];
  for (const [text, taken] of cases) {
    const r = takeMembers(Buffer.from(text), ROUTING_PARAMS);
    assert.deepEqual(r.taken, taken, text);
    const expected = JSON.parse(text) as Record<string, unknown>;
    for (const k of ROUTING_PARAMS) delete expected[k];
    assert.deepEqual(JSON.parse(r.body.toString()), expected, text);
    assert.equal(scanBody(r.body).error, undefined);
  }
  // Kept members keep their exact bytes (no re-serialisation of content).
  const r = takeMembers(Buffer.from('{"a":1.50,"fallbacks":["x"],"b":"\\u00e9"}'), ROUTING_PARAMS);
  assert.equal(r.body.toString(), '{"a":1.50,"b":"\\u00e9"}');
});

// ---- what the budget reservation reads: n, best_of, the nesting depth -------------------------

test('n and best_of are read when they are numbers, escaped keys included; the last one wins', () => {
  const r = ok('{"model":"m","n":3,"best_of":5,"messages":[]}');
  assert.equal(r.n, 3);
  assert.equal(r.bestOf, 5);
  const e = ok('{"\\u006e":2,"best_\\u006ff":4.5,"model":"m"}');
  assert.equal(e.n, 2);
  assert.equal(e.bestOf, 4.5);
  for (const v of ['"3"', 'null', 'true', '[1]', '{"n":1}', '1e400']) {
    const s = ok(`{"n":${v},"best_of":${v}}`);
    assert.equal(s.n, undefined, v);
    assert.equal(s.bestOf, undefined, v);
  }
  assert.equal(ok('{"n":2,"n":"x"}').n, undefined, 'JSON.parse keeps the string');
  assert.equal(ok('{"n":"x","n":-1}').n, -1);
  assert.equal(ok('{"a":{"n":5,"best_of":6},"b":[{"n":7}]}').n, undefined, 'only the top level');
  assert.equal(ok('{"model":"m"}').bestOf, undefined);
});

test('depth: the deepest nesting of the whole body, the top-level object counting 1', () => {
  assert.equal(ok('{}').depth, 1);
  assert.equal(ok('{"a":1,"b":"[[{{"}').depth, 1);
  assert.equal(ok('{"a":[]}').depth, 2);
  assert.equal(ok('{"a":[{"b":[[]]}],"c":{}}').depth, 5);
  assert.equal(ok('{"a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}').depth, 100_001);
});

/** The depth of a value (containers count 1 each, scalars 0), without recursion. */
function depthOf(v: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d > max) max = d;
    for (const c of Object.values(x as object)) stack.push([c, d + 1]);
  }
  return max;
}

test('property: n, best_of and depth agree with JSON.parse (fast-check)', () => {
  const key = fc.record({ name: fc.constantFrom('n', 'best_of', 'model', 'x', 'nn', 'best_o', 'messages'), escaped: fc.boolean() });
  const member = fc.tuple(key, fc.jsonValue({ maxDepth: 6 }));
  fc.assert(
    fc.property(fc.array(member, { maxLength: 8 }), (members) => {
      const lit = (k: { name: string; escaped: boolean }) => (k.escaped ? `"\\u${k.name.charCodeAt(0).toString(16).padStart(4, '0')}${k.name.slice(1)}"` : JSON.stringify(k.name));
      const text = `{${members.map(([k, v]) => `${lit(k)}:${JSON.stringify(v)}`).join(',')}}`;
      const o = JSON.parse(text) as Record<string, unknown>;
      const r = agrees(text, Buffer.from(text), true);
      const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      assert.equal(r.n, num(o.n), text);
      assert.equal(r.bestOf, num(o.best_of), text);
      // The depth of the bytes: a member JSON.parse drops for a later duplicate still counts.
      assert.equal(r.depth, 1 + Math.max(0, ...members.map(([, v]) => depthOf(v))), text);
    }),
    { seed: 0x6e, numRuns: 500 },
  );
});

// ---- `messages`, walked for the translation cache ------------------------------------------------

const ROLE_CODES: Record<string, number> = { user: USER, assistant: ASSISTANT, system: SYSTEM };

test('messages: each element\'s span and role are recorded as JSON.parse reads them (fast-check)', () => {
  const role = fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer');
  const message = fc.record({ role, content: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] });
  const ws = fc.constantFrom('', ' ', '\n  ');
  fc.assert(
    fc.property(fc.array(message, { maxLength: 6 }), ws, (msgs, w) => {
      const text = `{"model":"m",${w}"messages":${w}[${w}${msgs.map((m) => JSON.stringify(m)).join(`${w},${w}`)}${w}]${w}}`;
      const b = Buffer.from(text);
      const r = agrees(text, b, true);
      assert.equal(agrees(text).messages, null, 'recorded only when asked');
      const l = r.messages;
      assert.ok(l !== null, text);
      assert.equal(b[l.arrStart], 0x5b);
      assert.equal(l.arrEnd, text.lastIndexOf(']') + 1);
      assert.equal(l.starts.length, msgs.length);
      msgs.forEach((m, k) => {
        assert.deepEqual(JSON.parse(b.toString('utf8', l.starts[k]!, l.ends[k]!)), JSON.parse(JSON.stringify(m)));
        assert.equal(l.roles[k], ROLE_CODES[m.role as string] ?? OTHER_ROLE, text);
      });
    }),
    { seed: 0x3e5, numRuns: 300 },
  );
});

test('messages: recorded when the question asked on reaching them, with the model read so far, says so', () => {
  const asked: (string | undefined)[] = [];
  const ask = (yes: boolean) => (model: string | undefined) => {
    asked.push(model);
    return yes;
  };
  const first = '{"model":"gpt","messages":[{"role":"user","content":"hi"}]}';
  assert.notEqual(scanBody(Buffer.from(first), ask(true)).messages, null);
  assert.equal(scanBody(Buffer.from(first), ask(false)).messages, null);
  // The model after the messages is not known yet when they are reached.
  assert.equal(scanBody(Buffer.from('{"messages":[{"role":"user","content":"hi"}],"model":"gpt"}'), ask(true)).messages?.roles.length, 1);
  // Not asked at all without a messages array.
  scanBody(Buffer.from('{"model":"gpt","messages":"hi"}'), ask(true));
  assert.deepEqual(asked, ['gpt', 'gpt', undefined]);
});

test('messages: not recorded where a byte compare would misread them; the body is read as before', () => {
  const none = [
    '{"messages":[{"r\\u006fle":"user","content":"hi"}]}', // an escaped key in a message
    '{"m\\u0065ssages":[{"role":"user","content":"hi"}]}', // an escaped `messages`
    '{"messages":[{"role":"user"},"text"]}', // an element that is not an object
    '{"messages":"hello"}',
    '{"messages":[{"role":"user"}],"messages":{}}', // a later `messages` that is not an array
  ];
  for (const text of none) assert.equal(agrees(text, Buffer.from(text), true).messages, null, text);
  // Not valid JSON inside `messages`: the walk gives up and the scan accepts the body as it always
  // did (brackets balanced, strings ended; the upstream answers the rest in its own words).
  const liberal = scanBody(Buffer.from('{"model":"m","messages":[{"role":"user"} {"role":"assistant" "x"}],"stream":true}'), true);
  assert.equal(liberal.error, undefined);
  assert.equal(liberal.messages, null);
  assert.equal(liberal.stream, true);
  assert.equal(liberal.depth, 3);
  assert.match(scanBody(Buffer.from('{"messages":[{"role":"user"}'), true).error ?? '', /bad value at byte 12/);
});
