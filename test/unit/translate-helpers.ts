// Shared by the translate-*.test.ts files: fixtures, chunkings of a byte stream, and independent
// readers of both SSE dialects that check the protocol while they accumulate the message the way
// the Anthropic and OpenAI SDKs do.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Tests run from dist/test/unit/, fixtures stay in the source tree.
const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/translate');

export function fixtureJson(name: string): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8'));
}

export function fixtureBytes(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Chunking {
  name: string;
  chunks: Buffer[];
}

/** The same bytes cut every way that matters: whole, byte by byte, at random, at every event. */
export function chunkings(buf: Buffer, seeds = 8): Chunking[] {
  const out: Chunking[] = [{ name: 'all at once', chunks: [buf] }];
  const bytes: Buffer[] = [];
  for (let i = 0; i < buf.length; i++) bytes.push(buf.subarray(i, i + 1));
  out.push({ name: 'one byte at a time', chunks: bytes });
  for (let s = 1; s <= seeds; s++) {
    const rnd = prng(s);
    const chunks: Buffer[] = [];
    let i = 0;
    while (i < buf.length) {
      const n = 1 + Math.floor(rnd() * (s % 2 === 0 ? 300 : 24));
      chunks.push(buf.subarray(i, i + n));
      i += n;
    }
    out.push({ name: `random splits, seed ${s}`, chunks });
  }
  // Several events per chunk, cut just before each blank line (the worst place for a \r\n).
  const cuts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < buf.length - 1; i++) {
    if ((buf[i] === 0x0a || buf[i] === 0x0d) && (buf[i + 1] === 0x0a || buf[i + 1] === 0x0d)) {
      cuts.push(buf.subarray(from, i + 1));
      from = i + 1;
    }
  }
  cuts.push(buf.subarray(from));
  out.push({ name: 'cut inside every blank line', chunks: cuts });
  return out;
}

export interface Translator {
  push(chunk: Uint8Array | string): string;
  end(): string;
}

export function runStream(t: Translator, chunks: readonly (Buffer | string)[], end = true): string {
  let s = '';
  for (const c of chunks) s += t.push(c);
  if (end) s += t.end();
  return s;
}

export interface SseEvent {
  event: string;
  data: string;
}

/** A deliberately naive reader for the translators' own output (always `\n`-framed). */
export function readSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  assert.ok(text === '' || text.endsWith('\n\n'), 'output ends on an event boundary');
  for (const block of text.split('\n\n')) {
    if (block === '') continue;
    let event = '';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
      else assert.fail(`unexpected SSE line ${JSON.stringify(line)}`);
    }
    out.push({ event, data });
  }
  return out;
}

export interface AnthropicResult {
  message: Record<string, any>;
  events: Record<string, any>[];
  error?: Record<string, any>;
}

/**
 * Accumulates Anthropic stream events as the SDK's MessageStream does, asserting the protocol:
 * message_start first; blocks started in index order, one open at a time, deltas only into the open
 * block and of its type; tool input JSON that parses; message_delta then message_stop last.
 */
export function accumulateAnthropic(text: string): AnthropicResult {
  const sse = readSse(text);
  const events: Record<string, any>[] = [];
  let message: Record<string, any> | undefined;
  let open = -1;
  let json = '';
  let stopped = false;
  let sawDelta = false;
  let error: Record<string, any> | undefined;
  for (const { event, data } of sse) {
    const e = JSON.parse(data);
    assert.equal(e.type, event, 'event name matches data.type');
    events.push(e);
    assert.ok(!stopped, `nothing after message_stop (got ${e.type})`);
    assert.equal(error, undefined, 'nothing after an error event');
    switch (e.type) {
      case 'error':
        error = e.error;
        break;
      case 'message_start':
        assert.equal(message, undefined, 'one message_start');
        message = structuredClone(e.message);
        assert.deepEqual(message!.content, []);
        break;
      case 'content_block_start':
        assert.ok(message, 'message_start before blocks');
        assert.equal(open, -1, `block ${e.index} starts while block ${open} is open`);
        assert.equal(e.index, message!.content.length, 'blocks start in index order');
        message!.content.push(structuredClone(e.content_block));
        open = e.index;
        json = '';
        break;
      case 'content_block_delta': {
        assert.equal(e.index, open, `delta for block ${e.index} but block ${open} is open (content block not found)`);
        const b = message!.content[e.index];
        const d = e.delta;
        if (d.type === 'text_delta') {
          assert.equal(b.type, 'text');
          assert.equal(typeof d.text, 'string');
          b.text += d.text;
        } else if (d.type === 'thinking_delta') {
          assert.equal(b.type, 'thinking');
          b.thinking += d.thinking;
        } else if (d.type === 'signature_delta') {
          assert.equal(b.type, 'thinking');
          b.signature = d.signature;
        } else if (d.type === 'input_json_delta') {
          assert.equal(b.type, 'tool_use');
          assert.ok(d.partial_json.length > 0, 'no empty input_json_delta');
          json += d.partial_json;
        } else assert.fail(`unknown delta ${d.type}`);
        break;
      }
      case 'content_block_stop': {
        assert.equal(e.index, open, 'stop closes the open block');
        const b = message!.content[e.index];
        if (b.type === 'tool_use') {
          assert.ok(json.length > 0, `tool_use ${b.name} got input_json_delta`);
          b.input = JSON.parse(json);
        }
        open = -1;
        break;
      }
      case 'message_delta':
        assert.equal(open, -1, 'blocks closed before message_delta');
        assert.ok(!sawDelta, 'one message_delta');
        sawDelta = true;
        message!.stop_reason = e.delta.stop_reason;
        message!.stop_sequence = e.delta.stop_sequence;
        // The SDK: output_tokens always; input and cache counts when present.
        for (const k of ['output_tokens', 'input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']) {
          if (e.usage[k] !== undefined && e.usage[k] !== null) message!.usage[k] = e.usage[k];
        }
        break;
      case 'message_stop':
        assert.ok(sawDelta, 'message_delta before message_stop');
        assert.deepEqual(Object.keys(e), ['type'], 'message_stop carries nothing else');
        stopped = true;
        break;
      default:
        assert.fail(`unexpected event ${e.type}`);
    }
  }
  if (error === undefined) assert.ok(stopped, 'stream ends with message_stop');
  const result: AnthropicResult = { message: message ?? {}, events };
  if (error !== undefined) result.error = error;
  return result;
}

export interface OpenAIResult {
  id: string;
  message: Record<string, any>;
  finish_reason: string | null;
  usage?: Record<string, any>;
  done: boolean;
  error?: Record<string, any>;
  chunks: Record<string, any>[];
}

/** Accumulates chat.completion.chunk SSE as the OpenAI SDK's stream helpers do, asserting its shape. */
export function accumulateOpenAI(text: string): OpenAIResult {
  const sse = readSse(text);
  const r: OpenAIResult = { id: '', message: { role: undefined, content: '' }, finish_reason: null, done: false, chunks: [] };
  for (const { event, data } of sse) {
    assert.equal(event, '', 'OpenAI streams have no event names');
    assert.ok(!r.done, 'nothing after [DONE]');
    assert.equal(r.error, undefined, 'nothing after an error');
    if (data === '[DONE]') {
      r.done = true;
      continue;
    }
    const c = JSON.parse(data);
    r.chunks.push(c);
    if (c.error) {
      r.error = c.error;
      continue;
    }
    assert.equal(c.object, 'chat.completion.chunk');
    if (r.id === '') r.id = c.id;
    assert.equal(c.id, r.id, 'one id for the whole stream');
    if (c.usage) r.usage = c.usage;
    if (c.choices.length === 0) {
      assert.ok(c.usage, 'a chunk without choices is the usage chunk');
      continue;
    }
    assert.equal(r.finish_reason, null, 'no choice chunk after finish_reason');
    const ch = c.choices[0];
    const d = ch.delta;
    if (r.chunks.length === 1) assert.equal(d.role, 'assistant', 'first chunk carries the role');
    if (d.role) r.message.role = d.role;
    if (typeof d.content === 'string') r.message.content += d.content;
    if (typeof d.reasoning_content === 'string') r.message.reasoning_content = (r.message.reasoning_content ?? '') + d.reasoning_content;
    if (d.thinking_blocks) (r.message.thinking_blocks ??= []).push(...d.thinking_blocks);
    if (d.tool_calls) {
      r.message.tool_calls ??= [];
      for (const tc of d.tool_calls) {
        const cur = r.message.tool_calls[tc.index];
        if (cur === undefined) {
          assert.equal(tc.index, r.message.tool_calls.length, 'tool call indexes count up from 0');
          assert.ok(tc.id && tc.function?.name, 'a new tool call has an id and a name');
          r.message.tool_calls.push({ id: tc.id, type: tc.type, function: { name: tc.function.name, arguments: tc.function.arguments ?? '' } });
        } else cur.function.arguments += tc.function?.arguments ?? '';
      }
    }
    if (ch.finish_reason) r.finish_reason = ch.finish_reason;
  }
  return r;
}

/**
 * Reads a Responses API stream as Codex does, asserting its protocol: sequence numbers count up
 * from 0, items are added in order and finished once, done texts and arguments equal their deltas,
 * nothing follows the terminal event, and the final output lists every finished item.
 */
export function accumulateResponses(text: string): { events: any[]; terminal: any; output: any[] } {
  const events = readSse(text).map(({ event, data }) => {
    const e = JSON.parse(data);
    assert.equal(e.type, event);
    return e;
  });
  events.forEach((e, i) => assert.equal(e.sequence_number, i, 'sequence numbers count up from 0'));
  const items: any[] = [];
  const texts = new Map<string, string>();
  const args = new Map<string, string>();
  let terminal: any;
  for (const e of events) {
    assert.equal(terminal, undefined, `nothing after ${terminal?.type}`);
    switch (e.type) {
      case 'response.output_item.added':
        assert.equal(e.output_index, items.length, 'items are added in order');
        items.push({ added: e.item, done: undefined });
        break;
      case 'response.output_text.delta':
      case 'response.reasoning_summary_text.delta':
      case 'response.refusal.delta':
        assert.equal(items[e.output_index].done, undefined);
        assert.equal(e.item_id, items[e.output_index].added.id);
        texts.set(e.item_id, (texts.get(e.item_id) ?? '') + e.delta);
        break;
      case 'response.output_text.done':
      case 'response.reasoning_summary_text.done':
        assert.equal(e.text, texts.get(e.item_id) ?? '', 'done text = the deltas');
        break;
      case 'response.function_call_arguments.delta':
        args.set(e.item_id, (args.get(e.item_id) ?? '') + e.delta);
        break;
      case 'response.function_call_arguments.done':
        assert.equal(e.arguments, args.get(e.item_id) ?? '', 'done arguments = the deltas');
        break;
      case 'response.output_item.done':
        assert.equal(items[e.output_index].done, undefined, 'one done per item');
        assert.equal(e.item.id, items[e.output_index].added.id);
        items[e.output_index].done = e.item;
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        terminal = e;
        break;
      default:
        break;
    }
  }
  assert.ok(terminal, 'the stream ends with a terminal event');
  if (terminal.type !== 'response.failed') {
    assert.equal(events[0].type, 'response.created');
    assert.equal(events[1].type, 'response.in_progress');
    assert.deepEqual(terminal.response.output, items.map((i) => i.done), 'the final output lists every finished item');
  }
  return { events, terminal, output: items.map((i) => i.done) };
}

/** Every key path in a JSON value (for "nothing named X anywhere" checks). */
export function keysDeep(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysDeep(x, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysDeep(x, out);
    }
  }
  return out;
}
