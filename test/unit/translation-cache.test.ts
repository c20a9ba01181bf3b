// The per-session translation cache (src/gateway/translation-cache.ts) must give exactly what the
// uncached raw-body translation gives — the same upstream bytes, context, notices and model, or
// null / too-deep where that does — whatever it kept before; it must translate only what a call
// adds to a conversation; and it must stay within its bounds. Checked with fast-check over
// conversations that grow call after call as Claude Code's do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { claudeCodeBody, withBreakpoint } from '../../native-bench/bodies';
import { anthropicToOpenAIChatRaw, TOO_DEEP } from '../../src/gateway/raw-translation';
import { scanBody, type BodyScan } from '../../src/gateway/body-scan';
import { TranslationCache } from '../../src/gateway/translation-cache';
import { forgetKnownValues } from '../../src/gateway/known-values';
import { counted } from './linear-helpers';
import type { AnthropicToOpenAIOptions } from '../../src/translate';

type Obj = Record<string, unknown>;

/** Calls compared, and of those the ones the raw translation took (the rest: null or too deep on both sides). */
const seen = { calls: 0, translated: 0 };

/** The gateway's scan of the body (its member spans and messages), as it hands it to the cache; with a scope, through the known values as the gateway scans. */
function scanned(raw: Buffer, scope?: string): BodyScan {
  const scan = scanBody(raw, true, scope);
  assert.equal(scan.error, undefined, 'the gateway scans a body before it is translated');
  return scan;
}

/** A translation's body in one buffer (the cache gives its kept parts as pieces). */
function whole(body: Buffer | readonly Buffer[]): Buffer {
  return Array.isArray(body) ? Buffer.concat(body as readonly Buffer[]) : (body as Buffer);
}

function same(cache: TranslationCache, raw: Buffer, opts: AnthropicToOpenAIOptions, scan = scanned(raw)): void {
  agrees(cache.translate(raw, opts, scan), raw, opts);
}

/** Asserts `got` is what the uncached translation gives `raw`. */
function agrees(got: ReturnType<TranslationCache['translate']>, raw: Buffer, opts: AnthropicToOpenAIOptions): void {
  const want = anthropicToOpenAIChatRaw(raw, opts);
  seen.calls++;
  if (want === null || want === TOO_DEEP) {
    assert.equal(got, want, 'what the uncached translation does not take, neither does the cache');
    return;
  }
  assert.ok(got !== null && got !== TOO_DEEP, 'the cache translates what the uncached translation does');
  seen.translated++;
  const body = whole(got.body);
  if (!body.equals(want.body)) {
    let i = 0;
    while (body[i] === want.body[i]) i++;
    assert.fail(`bodies differ at byte ${i}: …${body.toString('utf8', Math.max(0, i - 60), i + 60)}… vs …${want.body.toString('utf8', Math.max(0, i - 60), i + 60)}…`);
  }
  assert.deepEqual(got.ctx, want.ctx);
  assert.deepEqual([...(got.ctx.toolNames ?? [])], [...(want.ctx.toolNames ?? [])], 'shortened names in the same order');
  assert.deepEqual([got.dropped?.tools, got.dropped?.items], [want.dropped?.tools, want.dropped?.items], 'the same left out, in the same order');
  assert.equal(got.model, want.model);
}

const rep = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
/** Strings of every kind the translation treats differently: long (≥ 256 bytes) or short, escapes, non-ASCII, a NUL. */
const LONGS = [
  rep('plain long text for a tool result or a turn. ', 300),
  rep('résumé → ✓ 😀 中文 ', 400),
  rep('quotes "q" and back\\slashes \\n and\nnewlines\tand tabs ', 500),
  rep('ends with a NUL \u0000 inside a long string ', 300),
  rep('x', 2000),
];
const SHORTS = ['ok', 'a "quoted" word', 'back\\slash', 'ünïcödé', '', 'Error: already prefixed', 'error', 'a\nb'];
const text = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...LONGS) },
  { weight: 30, arbitrary: fc.constantFrom(...SHORTS) },
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }) },
  // A NUL in a short string: the raw translation leaves such a body to the ordinary path.
  { weight: 1, arbitrary: fc.constant('nul \u0000 in a short string') },
);
const toolName = fc.constantFrom('Bash', 'Edit', 'Read', `mcp__server__${'very_long_tool_name_'.repeat(4)}`, `mcp__other__${'another_long_name_'.repeat(4)}`);
const cache = fc.constantFrom({ type: 'ephemeral' }, undefined);

const textBlock = fc.record({ text, cc: cache }).map(({ text, cc }) => (cc ? { type: 'text', text, cache_control: cc } : { type: 'text', text }));

interface Round {
  /** The assistant's messages (one turn), then the user's (one turn), with system messages among them. */
  messages: Obj[];
}

/** An assistant turn and the user turn answering it: tool calls, their results (some errors), text, unknown blocks, system messages. */
const round: fc.Arbitrary<Round> = fc
  .record({
    intro: fc.option(textBlock, { nil: undefined }),
    calls: fc.array(fc.record({ name: toolName, arg: text }), { maxLength: 2 }),
    thinking: fc.boolean(),
    results: fc.array(fc.record({ content: fc.oneof(text, fc.array(textBlock, { minLength: 1, maxLength: 2 })), isError: fc.boolean() }), { minLength: 2, maxLength: 2 }),
    userText: fc.option(fc.oneof(text, textBlock), { nil: undefined }),
    unknown: fc.constantFrom(undefined, 'search_result', 'server_tool_use'),
    splitAssistant: fc.boolean(),
    splitUser: fc.boolean(),
    system: fc.constantFrom(undefined, 'after-assistant', 'after-user'),
    orphan: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
    plain: fc.boolean(),
    id: fc.integer({ min: 0, max: 1e9 }),
  })
  .map((r) => {
    const ids = r.calls.map((_, i) => `toolu_${r.id}_${i}`);
    const assistant: Obj[] = [];
    if (r.thinking) assistant.push({ type: 'thinking', thinking: 'let me think', signature: 'sig' });
    if (r.intro) assistant.push(r.intro);
    r.calls.forEach((c, i) => assistant.push({ type: 'tool_use', id: ids[i], name: c.name, input: { command: c.arg, n: i } }));
    if (r.unknown === 'server_tool_use') assistant.push({ type: 'server_tool_use', id: 'srv', name: 'web_search', input: {} });
    const user: Obj[] = ids.map((id, i) => ({ type: 'tool_result', tool_use_id: r.orphan ? `${id}_orphan` : id, content: r.results[i]!.content, ...(r.results[i]!.isError ? { is_error: true } : {}) }));
    if (r.unknown === 'search_result') user.push({ type: 'search_result', source: 's', title: 't', content: [] });
    if (r.userText !== undefined) user.push(typeof r.userText === 'string' ? { type: 'text', text: r.userText } : r.userText);
    if (user.length === 0) user.push({ type: 'text', text: 'go on' });
    const messages: Obj[] = [];
    const push = (role: string, blocks: Obj[], split: boolean) => {
      if (split && blocks.length > 1) {
        messages.push({ role, content: blocks.slice(0, 1) }, { role, content: blocks.slice(1) });
      } else if (r.plain && blocks.length === 1 && blocks[0]!.type === 'text') {
        messages.push({ role, content: blocks[0]!.text });
      } else {
        messages.push({ role, content: blocks.length ? blocks : 'nothing to say' });
      }
    };
    push('assistant', assistant, r.splitAssistant);
    if (r.system === 'after-assistant') messages.push({ role: 'system', content: [{ type: 'text', text: 'mid-conversation note' }] });
    push('user', user, r.splitUser);
    if (r.system === 'after-user') messages.push({ role: 'system', content: 'a plain system message' });
    return { messages };
  });

const head = fc.record({
  system: fc.oneof(fc.constant(undefined), text, fc.array(textBlock, { minLength: 1, maxLength: 3 })),
  tools: fc.array(fc.record({ name: toolName, description: text, server: fc.boolean() }), { maxLength: 4 }),
  toolChoice: fc.constantFrom(undefined, undefined, undefined, 'auto', 'any', 'Bash', 'web_search'),
  stream: fc.boolean(),
  stop: fc.option(fc.array(fc.constantFrom('STOP', '\n\nHuman:'), { maxLength: 2 }), { nil: undefined }),
  user: fc.constantFrom(undefined, 'user_short', `user_${'x'.repeat(80)}`),
  messagesFirst: fc.boolean(),
  model: fc.constantFrom('claude-sonnet', 'claude-opus'),
});

function bodyOf(h: Obj, messages: Obj[], pad: string): Obj {
  const seen = new Set<string>();
  const tools = (h.tools as { name: string; description: string; server: boolean }[])
    .filter((t) => !seen.has(t.name) && seen.add(t.name))
    .map((t) => (t.server ? { type: 'web_search_20250305', name: 'web_search' } : { name: t.name, description: t.description, input_schema: { type: 'object', properties: { command: { type: 'string', description: t.description } } } }));
  const tc = h.toolChoice as string | undefined;
  const parts: Obj = { model: h.model, max_tokens: 32000 };
  const system = h.system === undefined ? [{ type: 'text', text: pad }] : typeof h.system === 'string' ? `${h.system}${pad}` : [...(h.system as Obj[]), { type: 'text', text: pad }];
  const rest: Obj = {
    system,
    ...(tools.length ? { tools } : {}),
    ...(tc === undefined ? {} : { tool_choice: tc === 'auto' || tc === 'any' ? { type: tc } : { type: 'tool', name: tc } }),
    ...(h.stop === undefined ? {} : { stop_sequences: h.stop }),
    ...(h.user === undefined ? {} : { metadata: { user_id: h.user } }),
    ...(h.stream ? { stream: true } : {}),
  };
  return h.messagesFirst ? { ...parts, messages, ...rest } : { ...parts, ...rest, messages };
}

type Style = 'plain' | 'escaped' | 'pretty' | 'escaped-keys';

/**
 * How a client may write the same JSON: as JSON.stringify does, with an escape for é,
 * pretty-printed, or with keys spelled with escapes (a second `messages` and a role JSON.parse
 * reads, though no byte compare sees them).
 */
function serialize(body: Obj, style: Style): Buffer {
  if (style === 'pretty') return Buffer.from(JSON.stringify(body, null, 1));
  const s = JSON.stringify(body);
  if (style === 'escaped-keys') {
    const msgs = JSON.stringify(body.messages);
    return Buffer.from(`${s.slice(0, -1)},"m\\u0065ssages":${msgs.replace('"role":"user"', '"role":"user","r\\u006fle":"assistant"')}}`);
  }
  return Buffer.from(style === 'escaped' ? s.replace(/é/g, '\\u00e9') : s);
}

const session = fc.record({
  head,
  first: fc.array(textBlock, { minLength: 1, maxLength: 2 }).map((b) => [{ role: 'user', content: b }] as Obj[]),
  leadingSystem: fc.boolean(),
  rounds: fc.array(round, { minLength: 1, maxLength: 8 }),
  style: fc.constantFrom<Style>('plain', 'plain', 'plain', 'plain', 'escaped', 'escaped', 'pretty', 'escaped-keys'),
  pad: fc.constantFrom(rep('a long system prompt. ', 17_000), rep('é', 9000), rep('a long system prompt. ', 17_000), 'short'),
  opts: fc.constantFrom<AnthropicToOpenAIOptions[]>([{ model: 'gpt-4.1' }], [{ model: 'gpt-4.1' }, { model: 'o3', maxTokensField: 'max_completion_tokens' }], [{ model: 'gpt-4.1', keepCacheControl: true, thinkingHistory: 'thinking_blocks' }]),
  small: fc.boolean(),
});

test('every call of a growing conversation is translated exactly as without the cache (fast-check)', () => {
  const before = { ...seen };
  fc.assert(
    fc.property(session, (s) => {
      // A small cache evicts all the time: what it gives must still be exact.
      const c = s.small ? new TranslationCache(96 * 1024, 24) : new TranslationCache();
      const first = s.leadingSystem ? [{ role: 'system', content: 'leading system message' }, ...s.first] : s.first;
      let messages: Obj[] = first;
      for (let k = 0; k <= s.rounds.length; k++) {
        if (k > 0) messages = [...messages, ...s.rounds[k - 1]!.messages];
        const raw = serialize(bodyOf(s.head, withBreakpoint(messages), s.pad), s.style);
        for (const opts of s.opts) same(c, raw, opts);
        const st = c.stats;
        assert.ok(st.bytes <= c.maxBytes && st.entries <= c.maxEntries, 'within its bounds');
      }
      // The same conversation again, from another client with the same history: all found.
      const again = serialize(bodyOf(s.head, withBreakpoint(messages), s.pad), s.style);
      same(c, again, s.opts[0]!);
    }),
    { numRuns: 100 },
  );
  // A good share of the generated calls are ones the raw translation takes (the rest check the
  // refusals agree): about a third on average, 22 % seen at the low end of fast-check's seeds.
  const calls = seen.calls - before.calls;
  const translated = seen.translated - before.translated;
  assert.ok(translated > calls / 8, `${translated} of ${calls} calls translated`);
});

test('scanned through the known values, some calls scanned and never translated, some forked: every translation is exact (fast-check)', () => {
  // The scan names the kept history a body repeats (its version) and how many messages; the cache
  // takes those messages' units from what it made of that version. A version it did not translate
  // (a call scanned, then refused or sent elsewhere) has no units to give: they are looked up.
  let chained = 0;
  fc.assert(
    fc.property(session, fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }), fc.array(round, { maxLength: 2 }), (s, translated, fork) => {
      forgetKnownValues();
      const c = s.small ? new TranslationCache(96 * 1024, 24) : new TranslationCache();
      let messages: Obj[] = s.first;
      const call = (k: number, msgs: Obj[]) => {
        const raw = serialize(bodyOf(s.head, withBreakpoint(msgs), s.pad), s.style);
        const scan = scanned(raw, 'key-a');
        if (translated[k % translated.length]) for (const opts of s.opts) same(c, raw, opts, k === 0 ? scan : scanned(raw, 'key-a'));
      };
      for (let k = 0; k <= s.rounds.length; k++) {
        if (k > 0) messages = [...messages, ...s.rounds[k - 1]!.messages];
        call(k, messages);
      }
      // A fork from the first round on, then the whole conversation again.
      call(1, [...s.first, ...(s.rounds[0]?.messages ?? []), ...fork.flatMap((r) => r.messages)]);
      call(1, messages);
      chained += c.stats.chained;
    }),
    { numRuns: 60 },
  );
  assert.ok(chained > 0, 'some units were taken from a kept history');
});

test('a session through the known values: a later call takes its history from the last call, comparing none of it', () => {
  forgetKnownValues();
  const c = new TranslationCache();
  let before = c.stats;
  let lastKept = false;
  const cost: number[] = [];
  for (let turns = 1; turns <= TURNS; turns++) {
    const raw = history(turns);
    const scan = scanned(raw, 'key-session');
    const { steps, value } = counted(() => c.translate(raw, OPTS, scan));
    agrees(value, raw, OPTS);
    const now = c.stats;
    // (A history is kept from MIN_VALUE bytes on: the first calls' may be shorter.)
    if (lastKept) {
      assert.equal(now.misses - before.misses, 2, `call ${turns}: the last unit (its breakpoint moved) and the new one`);
      assert.equal(now.chained - before.chained, turns - 1, `call ${turns}: every earlier unit from the last call`);
      cost.push(steps - 2 * (raw.length - (scan.messages!.arrEnd - scan.messages!.arrStart)));
    }
    lastKept = (scan.messages!.history?.after ?? -1) >= 0;
    before = now;
  }
  assert.ok(cost.length > TURNS / 2, `${cost.length} calls took their history from the last`);
  // The steps besides the head's check and compare grow with the messages (their roles, one step
  // each), not with the history's bytes: a compare would add two steps a byte.
  const grown = cost[cost.length - 1]! - cost[0]!;
  const bytes = history(TURNS).length - history(2).length;
  assert.ok(grown < bytes / 8, `${grown} steps more for ${bytes} bytes more of history`);

  // A version this cache did not translate (scanned, then the call went elsewhere): looked up, exact.
  const skipped = history(TURNS + 1);
  scanned(skipped, 'key-session');
  const next = history(TURNS + 2);
  const chainedBefore = c.stats.chained;
  same(c, next, OPTS, scanned(next, 'key-session'));
  assert.equal(c.stats.chained, chainedBefore, 'nothing taken from a version not translated here');
});

test('a conversation that forks, or whose system changes, shares what is the same and is still exact', () => {
  fc.assert(
    fc.property(session, fc.array(round, { minLength: 1, maxLength: 3 }), (s, fork) => {
      const c = new TranslationCache();
      const opts = s.opts[0]!;
      const base = [...s.first, ...s.rounds.flatMap((r) => r.messages)];
      same(c, serialize(bodyOf(s.head, withBreakpoint(base), s.pad), s.style), opts);
      const cut = s.first.length + (s.rounds[0]?.messages.length ?? 0);
      same(c, serialize(bodyOf(s.head, withBreakpoint([...base.slice(0, cut), ...fork.flatMap((r) => r.messages)]), s.pad), s.style), opts);
      same(c, serialize(bodyOf({ ...s.head, system: 'a different system prompt' }, withBreakpoint(base), s.pad), s.style), opts);
    }),
    { numRuns: 40 },
  );
});

const OPTS = { model: 'gpt-4.1' };
const TURNS = 60;

let benchBody: { messages: Obj[] } | null = null;

/** The bench's Claude Code body with its history cut to `turns` assistant turns, the last user message last. */
function history(turns: number): Buffer {
  const b = (benchBody ??= claudeCodeBody({ stream: true, targetBytes: 400 * 1024 }) as { messages: Obj[] });
  const msgs = b.messages;
  const cut = msgs.slice(0, 1 + 2 * turns);
  return Buffer.from(JSON.stringify({ ...b, messages: withBreakpoint(cut) }));
}

test('a byte that is not UTF-8 in a new part: the cache gives way, as the uncached translation does', () => {
  const c = new TranslationCache();
  const kept = history(3);
  same(c, kept, OPTS);
  same(c, kept, OPTS); // every part kept and found
  const spoilt = (body: Buffer, at: number): Buffer => {
    const b = Buffer.from(body);
    b[at] = 0xff;
    return b;
  };
  // In the turn a call adds (a new unit), and in the system prompt (the head, whose units are all found).
  const longer = history(4);
  const inNewTurn = spoilt(longer, longer.lastIndexOf('"text":"') + 9);
  const inHead = spoilt(kept, kept.indexOf('"system"') + 40);
  for (const [name, body] of [['new turn', inNewTurn], ['head', inHead]] as const) {
    assert.equal(anthropicToOpenAIChatRaw(body, OPTS), null, `${name}: the uncached translation refuses it`);
    same(c, body, OPTS);
  }
});

test('a call translates only what it adds: the changed last unit and the new one, never the history', () => {
  const c = new TranslationCache();
  let before = c.stats;
  for (let turns = 1; turns <= TURNS; turns++) {
    const raw = history(turns);
    same(c, raw, OPTS);
    const now = c.stats;
    const translated = now.misses - before.misses;
    // The first call: the head and every unit. Then: the last unit (its breakpoint moved) and the new one.
    if (turns === 1) assert.equal(translated, 3, 'head, first user turn, first round');
    else assert.equal(translated, 2, `call ${turns}: translated ${translated} parts`);
    assert.equal(now.hits - before.hits, turns === 1 ? 0 : turns - 1 + 1, 'the head and every earlier unit found');
    before = now;
  }
});

test('a scan that did not record the messages: the cache walks them itself, to the same translation', () => {
  for (const turns of [1, 6, 25]) {
    const raw = history(turns);
    const recorded = new TranslationCache();
    const walked = new TranslationCache();
    for (let call = 0; call < 2; call++) {
      const a = recorded.translate(raw, OPTS, scanBody(raw, true));
      const plain = scanBody(raw);
      assert.equal(plain.messages, null, 'not recorded unless asked');
      const { steps, value: b } = counted(() => walked.translate(raw, OPTS, plain));
      assert.ok(a && a !== TOO_DEEP && b && b !== TOO_DEEP);
      assert.ok(whole(a.body).equals(whole(b.body)), `${turns} turns, call ${call}`);
      assert.deepEqual(b.ctx, a.ctx);
      if (call === 1) {
        const scan = scanBody(raw, true);
        const again = counted(() => recorded.translate(raw, OPTS, scan));
        assert.ok(steps > again.steps, 'the walk of its own costs steps the record saves');
      }
    }
    assert.equal(walked.stats.misses, recorded.stats.misses, 'translated alike: once');
  }
});

test('bounded: bytes and entries stay within the bounds, least recently used out first; a huge part is not kept', () => {
  const c = new TranslationCache(512 * 1024, 40);
  // Each session's unit differs at its end too, where the key samples it: units that differed only
  // inside would share a bucket (four kept under one key) and be let go as that bucket is.
  const sessionBody = (s: number) => Buffer.from(JSON.stringify({ model: 'claude', max_tokens: 100, system: `session ${s}`, messages: [{ role: 'user', content: `session ${s} ${rep('pad ', 17_000)} ${s}` }] }));
  for (let s = 0; s < 30; s++) {
    same(c, sessionBody(s), OPTS);
    assert.ok(c.stats.bytes <= 512 * 1024 && c.stats.entries <= 40, `after session ${s}: ${JSON.stringify(c.stats)}`);
  }
  assert.ok(c.stats.entries < 60, 'older sessions were let go');
  // The most recent session is still there (both its parts found), the first is gone.
  let hits = c.stats.hits;
  same(c, sessionBody(29), OPTS);
  assert.equal(c.stats.hits - hits, 2, 'the last session: head and unit found');
  hits = c.stats.hits;
  same(c, sessionBody(0), OPTS);
  assert.equal(c.stats.hits - hits, 0, 'the first session: evicted');
  // A part larger than an eighth of the bound: translated, not kept.
  const tiny = new TranslationCache(64 * 1024, 40);
  same(tiny, history(3), OPTS);
  assert.ok(tiny.stats.bytes <= 64 * 1024);
  assert.equal(tiny.stats.misses, 5, 'head and four units translated');
  assert.ok(tiny.stats.entries < 5, 'the 150 KB head was not kept');
});

test('bounded: a part found since the last eviction pass outlives older parts not found (second chance)', () => {
  const c = new TranslationCache(16 * 1024 * 1024, 8);
  const sessionBody = (s: number) => Buffer.from(JSON.stringify({ model: 'claude', max_tokens: 100, system: `session ${s}`, messages: [{ role: 'user', content: `session ${s} ${rep('pad ', 17_000)} ${s}` }] }));
  const found = (s: number): number => {
    const hits = c.stats.hits;
    same(c, sessionBody(s), OPTS);
    return c.stats.hits - hits;
  };
  for (let s = 0; s < 5; s++) found(s); // two parts each: session 4 lets session 0 go
  assert.equal(c.stats.entries, 8);
  assert.equal(found(2), 2, 'session 2 found, and so marked used');
  found(5);
  found(6); // session 1 goes, then session 3: session 2, older but used, is passed over
  assert.equal(c.stats.entries, 8);
  assert.equal(found(2), 2, 'session 2 kept');
  assert.equal(found(3), 0, 'session 3 let go');
});

test('parts with the same key but other bytes (two system prompts differing by a date) live side by side, each exact', () => {
  const c = new TranslationCache();
  const body = (day: string) => Buffer.from(JSON.stringify({ model: 'claude', max_tokens: 100, system: `${rep('You are a coding agent. ', 9000)} Today is 2026-12-${day}. ${rep('Be brief. ', 9000)}`, messages: [{ role: 'user', content: 'hi' }] }));
  const a = body('01');
  const b = body('02');
  assert.equal(a.length, b.length);
  for (let i = 0; i < 3; i++) {
    same(c, a, OPTS);
    same(c, b, OPTS);
  }
  assert.equal(c.stats.misses, 3, 'head A, head B, and their shared unit: translated once each');
  assert.equal(c.stats.hits, 9);
  assert.equal(c.stats.entries, 3);
});

test('a duplicate `messages` (JSON.parse keeps the last) is left to the uncached path, as it was', () => {
  const c = new TranslationCache();
  const msgs = (s: string) => JSON.stringify([{ role: 'user', content: rep(s, 20_000) }]);
  const raw = Buffer.from(`{"model":"claude","max_tokens":10,"messages":${msgs('first ')},"system":"s","messages":${msgs('second ')}}`);
  same(c, raw, OPTS);
  assert.equal(c.stats.misses + c.stats.hits, 0, 'the cache took no part of it');
});

test('a call walks nothing the scan crossed: tools and messages cost their UTF-8 check, their compare and their copy', () => {
  // Sessions that differ only in how many tools, or how many messages, they have. On the second
  // call (every part found), each byte more costs 2 steps (the UTF-8 check, the compare) and each
  // piece of the upstream body 1 (the pieces go as they are, not copied), plus one step a message
  // (its role, read from the scan's record); a walk of its own would cost one more step a byte.
  const tool = (i: number) => ({ name: `Tool${i}`, description: 'd', input_schema: { type: 'object', properties: { a: { type: 'string', description: 'x' }, b: { type: 'array', items: { type: 'number' } } } } });
  const turns = (n: number) => Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `turn ${i} ${rep('x', 40)}` }] }));
  const call = (tools: number, messages: number): { steps: number; bytes: number; out: number; messages: number } => {
    const c = new TranslationCache();
    const msgs = [{ role: 'user', content: rep('hello ', 20_000) }, ...turns(2 * messages)];
    const body = Buffer.from(JSON.stringify({ model: 'claude', max_tokens: 10, system: 'sys', tools: Array.from({ length: tools }, (_, i) => tool(i)), messages: msgs }));
    same(c, body, OPTS);
    const scan = scanned(body); // the gateway's scan, which walks the whole body once whatever the cache does
    const misses = c.stats.misses;
    const { steps, value } = counted(() => c.translate(body, OPTS, scan));
    assert.ok(value && value !== TOO_DEEP);
    assert.equal(c.stats.misses, misses, 'the second call found every part');
    assert.ok(Array.isArray(value.body), 'a cached body comes in pieces');
    return { steps, bytes: body.length, out: value.body.length, messages: msgs.length };
  };
  for (const [small, large] of [
    [call(10, 1), call(410, 1)],
    [call(10, 1), call(10, 400)],
  ] as const) {
    const budget = 2 * (large.bytes - small.bytes) + (large.out - small.out) + (large.messages - small.messages);
    assert.ok(large.steps - small.steps <= budget, `${large.steps - small.steps} steps for ${large.bytes - small.bytes} more bytes (budget ${budget})`);
  }
});
