// The raw-body Anthropic → OpenAI translation must give the upstream the same JSON as the ordinary
// path (parse, translate, stringify), with the same context (token estimate included), and byte
// for byte the same body when the client wrote its JSON as JSON.stringify does. Whatever it does
// not handle must come back null, so the ordinary path (and its exact errors) takes over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claudeCodeBody } from '../../native-bench/bodies';
import { anthropicToOpenAIChatRaw, TOO_DEEP, utf8Excess, type RawTranslation } from '../../src/gateway/raw-translation';
import { MAX_JSON_DEPTH } from '../../src/gateway/json-depth';
import { anthropicToOpenAIChat } from '../../src/translate';
import { chatToGemini } from '../../src/translate/gemini-request';

const OPTS = { model: 'gpt-4.1' };

function ordinary(raw: Buffer) {
  const r = anthropicToOpenAIChat(JSON.parse(raw.toString('utf8')), OPTS);
  return { body: Buffer.from(JSON.stringify(r.body)), ctx: r.ctx, dropped: r.dropped };
}

/** Same value and context as the ordinary path; `bytes`: also the same bytes. */
function same(raw: Buffer, bytes = true): void {
  const fast = anthropicToOpenAIChatRaw(raw, OPTS);
  assert.ok(fast && fast !== TOO_DEEP, 'the raw path applies');
  const want = ordinary(raw);
  assert.deepEqual(JSON.parse(fast.body.toString('utf8')), JSON.parse(want.body.toString('utf8')));
  assert.deepEqual(fast.ctx, want.ctx);
  assert.deepEqual([fast.dropped?.tools, fast.dropped?.items], [want.dropped?.tools, want.dropped?.items], 'the same left out');
  if (bytes) assert.ok(fast.body.equals(want.body), 'byte for byte');
  assert.equal(fast.model, JSON.parse(raw.toString()).model);
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const long = (s: string, n = 400) => s.repeat(Math.ceil(n / s.length));
const filler = { role: 'user', content: [{ type: 'text', text: long('padding so the body is long enough. ', 20_000) }] };

test('the bench body (148 KB), streaming and not, is translated byte for byte like the ordinary path', () => {
  same(json(claudeCodeBody({ stream: true })));
  same(json(claudeCodeBody()));
});

test('long strings in every place the translator moves them: system, text, tool_result, descriptions, schemas', () => {
  const body = {
    model: 'claude',
    max_tokens: 100,
    stream: true,
    system: [{ type: 'text', text: long('sys → "quoted" \\ back\\slash\n') }, { type: 'text', text: long('second ✓ 😀 block\t') }],
    tools: [{ name: 'Edit', description: long('Edits a file. résumé '), input_schema: { type: 'object', properties: { p: { type: 'string', description: long('a long param description ') } } } }],
    messages: [
      filler,
      { role: 'assistant', content: [{ type: 'text', text: long('first part ') }, { type: 'text', text: long('second part ') }, { type: 'tool_use', id: 't1', name: 'Edit', input: { content: long('whole file "x" \\n \u001b[0m 中文\n'), text: 'short', description: long('inner description ') } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: long('part one ') }, { type: 'text', text: long('part two ') }] }, { type: 'text', text: long('and a question ') }] },
      { role: 'assistant', content: long('a plain string turn ') },
      { role: 'user', content: long('a plain string question ') },
    ],
  };
  same(json(body));
  same(json({ ...body, stream: false }));
});

test('images and documents: their data stays a real string, checked and sized as on the ordinary path', () => {
  const blocks = [
    filler.content[0],
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: long('iVBOR', 5000) } },
    { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: long('JVBER', 5000) }, title: 'a.pdf' },
    { type: 'document', source: { type: 'text', media_type: 'text/plain', data: long('plain document text ', 2000) } },
    { type: 'document', source: { type: 'content', content: [{ type: 'text', text: long('document part ') }] } },
  ];
  same(json({ model: 'c', max_tokens: 5, stream: true, messages: [{ role: 'user', content: blocks }] }));
  const tooBig = { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: [filler.content[0], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(8 * 1024 * 1024) } }] }] };
  assert.equal(anthropicToOpenAIChatRaw(json(tooBig), OPTS), null, 'the 5 MB image check fails there too: the ordinary path reports it');
  assert.throws(() => ordinary(json(tooBig)), /limit is 5 MB/);
});

test('an is_error tool_result gets the "Error: " prefix from its real text, as on the ordinary path', () => {
  const turn = (content: unknown) => ({
    model: 'claude',
    max_tokens: 10,
    messages: [
      filler,
      { role: 'assistant', content: [{ type: 'tool_use', id: 'x', name: 'Bash', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', is_error: true, content }] },
    ],
  });
  same(json(turn(long('error: the command failed '))));
  same(json(turn(long('the command failed '))));
  same(json(turn([{ type: 'text', text: long('Error: failed ') }])));
  const out = JSON.parse((anthropicToOpenAIChatRaw(json(turn(long('error: x '))), OPTS) as RawTranslation).body.toString());
  assert.match(out.messages.at(-1).content, /^error: x/);
});

test('a marker-like text inside a long string is just text', () => {
  same(json({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'text', text: `\u0000W0\u0000 \\u0000W1\\u0000 ${filler.content[0]!.text}` }] }] }));
});

test('escapes the client chose are kept: the same value, other bytes', () => {
  const plain = json({ model: 'c', max_tokens: 5, messages: [filler, { role: 'assistant', content: 'ok' }, { role: 'user', content: [{ type: 'text', text: long('caf\u00e9 a/b ') }] }] });
  const escaped = Buffer.from(plain.toString().replace(/café a\/b /g, 'caf\\u00e9 a\\/b '));
  assert.notDeepEqual(escaped, plain);
  same(escaped, false);
  assert.ok((anthropicToOpenAIChatRaw(escaped, OPTS) as RawTranslation).body.includes('caf\\u00e9 a\\/b '));
});

test('what the raw path does not handle comes back null, for the ordinary path to take', () => {
  const base = { model: 'c', max_tokens: 5, messages: [filler] };
  assert.equal(anthropicToOpenAIChatRaw(json({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: long('x', 1000) }] }), OPTS), null, 'short body');
  assert.equal(anthropicToOpenAIChatRaw(Buffer.from(JSON.stringify(base, null, 2)), OPTS), null, 'pretty-printed (raw newlines)');
  assert.equal(anthropicToOpenAIChatRaw(Buffer.from(json(base).toString().replace('padding so', 'padding \\x so')), OPTS), null, 'bad escape');
  assert.equal(anthropicToOpenAIChatRaw(Buffer.from(json(base).toString().replace('padding so', 'padding \\u00zz so')), OPTS), null, 'bad \\u escape');
  const nul = { ...base, messages: [filler, { role: 'assistant', content: 'ok' }, { role: 'user', content: [{ type: 'text', text: '\u0000W0\u0000' }] }] };
  assert.equal(anthropicToOpenAIChatRaw(json(nul), OPTS), null, 'a NUL in a short string: it could pass for a marker');
  const bad = Buffer.concat([json(base).subarray(0, 500), Buffer.from([0xff]), json(base).subarray(500)]);
  assert.equal(anthropicToOpenAIChatRaw(bad, OPTS), null, 'invalid UTF-8');
  const badTool = { ...base, tools: [{ name: 'bad name!', description: long('d'), input_schema: { type: 'object' } }] };
  assert.equal(anthropicToOpenAIChatRaw(json(badTool), OPTS), null, 'a translation error');
  assert.throws(() => ordinary(json(badTool)), /not a valid tool name/);
  assert.equal(anthropicToOpenAIChatRaw(Buffer.from(json(base).toString().slice(0, -3)), OPTS), null, 'truncated');
});

test('utf8Excess counts UTF-16 units less bytes at any alignment, as a byte loop does', () => {
  const text = Buffer.from('a→b😀cé'.repeat(50) + 'xyz');
  const slow = (b: Buffer, from: number, to: number) => b.toString('utf8', from, to).length - (to - from);
  for (const off of [0, 1, 2, 3]) {
    const buf = Buffer.concat([Buffer.alloc(off), text]).subarray(off); // every alignment of the data
    for (const [from, to] of [[0, buf.length], [1, 33], [0, 7]] as const) {
      // Cut only at character starts, so the slice is valid UTF-8.
      let f = from;
      while ((buf[f]! & 0xc0) === 0x80) f++;
      let t = to;
      while (t < buf.length && (buf[t]! & 0xc0) === 0x80) t++;
      assert.equal(utf8Excess(buf, f, t), slow(buf, f, t), `offset ${off}, ${f}..${t}`);
    }
  }
});

test('random bodies: the same value and context as the ordinary path', () => {
  let seed = 42;
  const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const bits = ['plain ', '"q" ', '\\ ', '\n', '\t', 'é', '→', '😀', '\u001b', '\ud800', '/', 'error ', 'Error: '];
  const text = (n: number) => {
    let s = '';
    while (s.length < n) s += bits[Math.floor(r() * bits.length)]!;
    return s;
  };
  for (let k = 0; k < 60; k++) {
    const messages: unknown[] = [filler];
    for (let t = 0; t < 6; t++) {
      const id = `t${k}_${t}`;
      messages.push({ role: 'assistant', content: [{ type: 'text', text: text(r() * 900) }, { type: 'tool_use', id, name: 'Tool', input: { content: text(r() * 900), n: t } }] });
      const errored = r() < 0.3;
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, ...(errored ? { is_error: true } : {}), content: r() < 0.5 ? text(r() * 1200) : [{ type: 'text', text: text(r() * 600) }] }] });
    }
    const body = {
      model: 'claude',
      max_tokens: 1000,
      stream: r() < 0.5,
      system: [{ type: 'text', text: text(r() * 2000) }],
      tools: [{ name: 'Tool', description: text(r() * 1500), input_schema: { type: 'object', properties: { content: { type: 'string', description: text(r() * 500) } } } }],
      messages,
    };
    same(json(body));
  }
});

test('the walk that finds the long strings bounds the nesting too: past the limit the answer is TOO_DEEP, at it a translation', () => {
  // The body's own object, messages, a message, content, a block and `input`'s object: 6 levels; the rest are arrays.
  const body = (levels: number) =>
    Buffer.from(
      `{"model":"c","max_tokens":5,"messages":[${JSON.stringify(filler)},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":{"deep":${'['.repeat(levels)}${']'.repeat(levels)}}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]}`,
    );
  assert.equal(anthropicToOpenAIChatRaw(body(MAX_JSON_DEPTH - 6 + 1), OPTS), TOO_DEEP);
  assert.equal(anthropicToOpenAIChatRaw(body(100_000), OPTS), TOO_DEEP);
  same(body(MAX_JSON_DEPTH - 6));
  assert.equal(anthropicToOpenAIChatRaw(body(MAX_JSON_DEPTH - 6), OPTS, MAX_JSON_DEPTH - 1), TOO_DEEP, 'the bound given is the one applied');
});

test('mid-conversation system messages (Claude Code 2.1.332): long texts spliced as bytes, the same chat request as the ordinary path', () => {
  const use = { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } };
  const body = {
    model: 'claude',
    max_tokens: 100,
    stream: true,
    system: [{ type: 'text', text: long('top-level system ') }],
    messages: [
      filler,
      { role: 'system', content: long('# Environment\n - Primary working directory: /home/dev/proj ✓ ') },
      { role: 'assistant', content: [use] },
      { role: 'system', content: [{ type: 'text', text: long('<total_tokens>14999985 tokens left</total_tokens> '), cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: long('file listing ') }] },
      { role: 'system', content: [{ type: 'text', text: long('first "block" ') }, { type: 'text', text: long('second block ') }] },
    ],
  };
  same(json(body));
  same(json({ ...body, stream: false }));
  const sent = JSON.parse((anthropicToOpenAIChatRaw(json(body), OPTS) as RawTranslation).body.toString());
  assert.deepEqual(sent.messages.map((m: { role: string }) => m.role), ['system', 'user', 'system', 'assistant', 'tool', 'system', 'system']);
});

test('what is left out (unknown blocks, server tools) is left out and named the same way on both paths', () => {
  const body = {
    model: 'claude',
    max_tokens: 100,
    tools: [{ name: 'Read', description: long('reads a file '), input_schema: { type: 'object' } }, { type: 'web_search_20250305', name: 'web_search' }],
    messages: [
      filler,
      { role: 'assistant', content: [{ type: 'server_tool_use', id: 's', name: 'web_search', input: { query: long('q ') } }, { type: 'text', text: long('answer ') }] },
      { role: 'user', content: [{ type: 'hologram', text: long('new block ') }, { type: 'text', text: 'next' }] },
      { role: 'system', content: [{ type: 'tool_addition', tool: { type: 'tool_definition', definition: { name: 'X', description: long('x ') } } }] },
    ],
  };
  same(json(body));
  const fast = anthropicToOpenAIChatRaw(json(body), OPTS) as RawTranslation;
  assert.equal(fast.dropped?.tools, 'web_search_20250305');
  assert.equal(fast.dropped?.items, "messages[1].content[0] (type 'server_tool_use'); messages[2].content[0] (type 'hologram'); messages[3].content[0] (type 'tool_addition')");
});

test('Anthropic → Gemini through the raw path (reshape): the same generateContent body as the ordinary chain, tool inputs re-parsed from their arguments', () => {
  const gemini = (chat: Record<string, unknown>) => chatToGemini(chat, 'gemini-2.5-pro', { thinkingBudget: 2048 }).body;
  const body = {
    model: 'claude',
    max_tokens: 100,
    stream: true,
    thinking: { type: 'enabled', budget_tokens: 2048 },
    system: [{ type: 'text', text: long('sys → "quoted" \\ back\\slash\n') }],
    tools: [{ name: 'Write', description: long('Writes a file. résumé '), input_schema: { type: 'object', properties: { content: { type: 'string', description: long('the whole file ') } } } }],
    messages: [
      filler,
      { role: 'assistant', content: [{ type: 'text', text: long('I will write it ') }, { type: 'tool_use', id: 't1', name: 'Write', input: { content: long('whole file "x" \\n \u001b[0m 中文\n') } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: long('part one ') }, { type: 'text', text: long('part two ') }] }, { type: 'text', text: long('and a question ') }] },
    ],
  };
  for (const raw of [json(body), json({ ...claudeCodeBody({ stream: true }), thinking: { type: 'enabled', budget_tokens: 2048 } })]) {
    const fast = anthropicToOpenAIChatRaw(raw, { model: 'gemini-2.5-pro' }, MAX_JSON_DEPTH, (chat) => gemini(chat));
    assert.ok(fast && fast !== TOO_DEEP, 'the raw path applies');
    const want = gemini(anthropicToOpenAIChat(JSON.parse(raw.toString('utf8')), { model: 'gemini-2.5-pro' }).body);
    assert.deepEqual(JSON.parse(fast.body.toString('utf8')), JSON.parse(JSON.stringify(want)));
  }
});
