// Shared by the linear-*.test.ts files: how the work of a scan is read (src/scan-steps.ts), the
// bound it is held to, and fast-check arbitraries for hostile inputs. The arbitraries generate
// small recipes (which motif, how many times, how deep) and the tests build the bytes from them,
// so a failure prints a recipe a person can read rather than a megabyte of JSON.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scanSteps } from '../../src/scan-steps';

// Fixed seed: the suite sees the same inputs on every run. FC_SEED=<n> explores others.
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 0x11ea2), numRuns: Number(process.env.FC_RUNS ?? 60) });

/** Steps the scanners counted while `fn` ran, and what it returned. */
export function counted<T>(fn: () => T): { steps: number; value: T } {
  const before = scanSteps.n;
  const value = fn();
  return { steps: scanSteps.n - before, value };
}

/** Asserts steps ≤ c × bytes + k: the scan is linear in its input, with a small constant. */
export function assertLinear(what: string, bytes: number, steps: number, c: number, k = 256): void {
  assert.ok(steps <= c * bytes + k, `${what}: ${steps} steps for ${bytes} bytes, ${(steps / Math.max(1, bytes)).toFixed(1)} per byte (bound ${c} per byte + ${k})`);
}

// ---- JSON bodies ---------------------------------------------------------------------------------

/** Key spellings: the keys the scanners look for, plain and escaped, and decoys. */
export const KEYS = [
  '"model"',
  '"mod\\u0065l"',
  '"stream"',
  '"stre\\u0061m"',
  '"stream_options"',
  '"stream_option\\u0073"',
  '"usage"',
  '"\\u0075sage"',
  '"n"',
  '"\\u006e"',
  '"best_of"',
  '"max_tokens"',
  '"user"',
  '"include_usage"',
  '"k"',
  '"\\\\"',
  '"\\\\\\\\\\\\\\\\"',
  '"\\"usage\\""',
  '"a\\"b"',
  '"role"',
  '"r\\u006fle"',
] as const;

/** Values a repeated member may have (every one valid JSON). */
export const SCALARS = ['1', '-2.5e3', 'true', 'null', '"x"', '""', '"\\\\"', '"\\""', '{}', '[]', '{"include_usage":false}', '"\\\\\\\\\\\\\\""'] as const;

/** A part of the top-level object, as a recipe. */
export type Motif =
  /** `count` top-level members `key: value`. */
  | { kind: 'keys'; key: string; value: string; count: number }
  /** One member whose value nests `depth` levels, each level an object keyed by `key` (or an array). */
  | { kind: 'nest'; key: string; depth: number; arrays: boolean }
  /** One member: an object holding `count` members keyed by `key`. */
  | { kind: 'flat'; key: string; value: string; count: number }
  /** One string member made of `count` runs of `run` backslash pairs, each run followed by `\"`. */
  | { kind: 'backslashes'; count: number; run: number }
  /** One member: an array of `count` short strings. */
  | { kind: 'strings'; count: number; s: string }
  /** A top-level `messages` (walked by the scan for its spans and roles): `count` objects of `per` members `key: value`. */
  | { kind: 'messages'; key: string; value: string; count: number; per: number };

export const motif: fc.Arbitrary<Motif> = fc.oneof(
  fc.record({ kind: fc.constant('keys' as const), key: fc.constantFrom(...KEYS), value: fc.constantFrom(...SCALARS), count: fc.integer({ min: 1, max: 4000 }) }),
  fc.record({ kind: fc.constant('nest' as const), key: fc.constantFrom(...KEYS), depth: fc.integer({ min: 1, max: 3000 }), arrays: fc.boolean() }),
  fc.record({ kind: fc.constant('flat' as const), key: fc.constantFrom(...KEYS), value: fc.constantFrom(...SCALARS), count: fc.integer({ min: 1, max: 4000 }) }),
  fc.record({ kind: fc.constant('backslashes' as const), count: fc.integer({ min: 1, max: 300 }), run: fc.integer({ min: 0, max: 300 }) }),
  fc.record({ kind: fc.constant('strings' as const), count: fc.integer({ min: 1, max: 4000 }), s: fc.constantFrom('"a"', '"\\""', '"\\\\"', '"usage"', '"stream_options"', '""') }),
  fc.record({ kind: fc.constant('messages' as const), key: fc.constantFrom(...KEYS), value: fc.constantFrom(...SCALARS, '"user"', '"assistant"'), count: fc.integer({ min: 1, max: 2000 }), per: fc.integer({ min: 1, max: 5 }) }),
);

/** The JSON text of one motif: a list of members (without the braces around them). */
export function motifMembers(m: Motif): string[] {
  switch (m.kind) {
    case 'keys':
      return Array.from({ length: m.count }, () => `${m.key}:${m.value}`);
    case 'nest': {
      const open = m.arrays ? `[{${m.key}:` : `{${m.key}:`;
      const close = m.arrays ? '}]' : '}';
      return [`"x":${open.repeat(m.depth)}1${close.repeat(m.depth)}`];
    }
    case 'flat':
      return [`"x":{${Array.from({ length: m.count }, () => `${m.key}:${m.value}`).join(',')}}`];
    case 'backslashes':
      return [`"s":"${('\\\\'.repeat(m.run) + '\\"').repeat(m.count)}"`];
    case 'strings':
      return [`"a":[${Array.from({ length: m.count }, () => m.s).join(',')}]`];
    case 'messages': {
      const element = `{${Array.from({ length: m.per }, () => `${m.key}:${m.value}`).join(',')}}`;
      return [`"messages":[${Array.from({ length: m.count }, () => element).join(',')}]`];
    }
  }
}

export interface BodyRecipe {
  motifs: Motif[];
  /** Members around the motifs: `"stream":true` first, `"model"` last, … */
  head: string;
  tail: string;
  /** Whitespace between members and after the object. */
  ws: string;
}

export const bodyRecipe: fc.Arbitrary<BodyRecipe> = fc.record({
  motifs: fc.array(motif, { minLength: 1, maxLength: 3 }),
  head: fc.constantFrom('"stream":true', '"model":"gpt-4o","stream":true', '"stream":true,"stream_options":{"include_usage":false}', '"id":"chatcmpl-1","model":"gpt-4o"'),
  tail: fc.constantFrom('"model":"m"', '"usage":{"prompt_tokens":1,"completion_tokens":2}', '"stream_options":{}', '"n":2,"best_of":3', '"usage":null'),
  ws: fc.constantFrom('', ' ', '\n  ', '\r\n\t'),
});

export function buildBody(r: BodyRecipe): Buffer {
  const members = [r.head, ...r.motifs.flatMap(motifMembers), r.tail];
  return Buffer.from(`{${r.ws}${members.join(`,${r.ws}`)}${r.ws}}${r.ws}`);
}

/** A body damaged at a point: cut there, or one byte there replaced. */
export interface Damage {
  at: number; // a fraction of the length, in [0, 1)
  op: 'cut' | 'quote' | 'backslash' | 'brace' | 'bracket' | 'drop';
}

export const damage: fc.Arbitrary<Damage> = fc.record({
  at: fc.double({ min: 0, max: 0.999, noNaN: true }),
  op: fc.constantFrom('cut', 'quote', 'backslash', 'brace', 'bracket', 'drop'),
});

export function damaged(b: Buffer, d: Damage): Buffer {
  const at = Math.floor(d.at * b.length);
  const put = (c: string) => Buffer.concat([b.subarray(0, at), Buffer.from(c), b.subarray(at + 1)]);
  switch (d.op) {
    case 'cut':
      return b.subarray(0, at);
    case 'quote':
      return put('"');
    case 'backslash':
      return put('\\');
    case 'brace':
      return put('}');
    case 'bracket':
      return put('[');
    case 'drop':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  }
}

// ---- SSE streams ---------------------------------------------------------------------------------

/** One SSE event (or non-event line) of a generated stream, as a recipe. */
export type EventRecipe =
  | { kind: 'delta'; text: number; escapes: boolean }
  | { kind: 'usage'; onChoices: boolean }
  | { kind: 'comment' }
  | { kind: 'done' }
  /** `data: {"a":{"usage":{"usage":…` nested `depth` times: every brace looks like usage. */
  | { kind: 'usageBraces'; depth: number }
  /** `data: {"choices":` then `spaces` spaces before its `[`: undecided for long. */
  | { kind: 'choicesLate'; spaces: number; empty: boolean }
  /** An event of `lines` data lines. */
  | { kind: 'dataLines'; lines: number }
  /** Anthropic events, named or not. */
  | { kind: 'anthropic'; type: 'message_start' | 'content_block_delta' | 'message_delta' | 'message_stop' | 'error'; named: boolean; text: number }
  /** Bytes that are no SSE at all: lone CRs, runs of LFs, braces. */
  | { kind: 'garbage'; byte: '\r' | '\n' | '{' | '[' | '"' | ' '; count: number };

export const eventRecipe: fc.Arbitrary<EventRecipe> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delta' as const), text: fc.integer({ min: 0, max: 400 }), escapes: fc.boolean() }) },
  fc.record({ kind: fc.constant('usage' as const), onChoices: fc.boolean() }),
  fc.record({ kind: fc.constant('comment' as const) }),
  fc.record({ kind: fc.constant('done' as const) }),
  fc.record({ kind: fc.constant('usageBraces' as const), depth: fc.integer({ min: 1, max: 2000 }) }),
  fc.record({ kind: fc.constant('choicesLate' as const), spaces: fc.integer({ min: 0, max: 4000 }), empty: fc.boolean() }),
  fc.record({ kind: fc.constant('dataLines' as const), lines: fc.integer({ min: 1, max: 500 }) }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('anthropic' as const),
      type: fc.constantFrom('message_start', 'content_block_delta', 'message_delta', 'message_stop', 'error'),
      named: fc.boolean(),
      text: fc.integer({ min: 0, max: 400 }),
    }),
  },
  fc.record({ kind: fc.constant('garbage' as const), byte: fc.constantFrom('\r', '\n', '{', '[', '"', ' '), count: fc.integer({ min: 1, max: 3000 }) }),
);

/** About n bytes of JSON string content (whole escapes only). */
function textOf(n: number, escapes: boolean): string {
  const unit = escapes ? 'a\\"b\\\\c\\n' : 'lorem ipsum ';
  return unit.repeat(Math.ceil(n / unit.length));
}

/** The lines of one event (without the blank line that ends it). */
export function eventLines(e: EventRecipe): string[] {
  switch (e.kind) {
    case 'delta':
      return [`data: {"id":"chatcmpl-1","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"${textOf(e.text, e.escapes)}"},"finish_reason":null}],"usage":null}`];
    case 'usage':
      return [`data: {"id":"chatcmpl-1","choices":${e.onChoices ? '[{"index":0,"delta":{}}]' : '[]'},"usage":{"prompt_tokens":10,"completion_tokens":5}}`];
    case 'comment':
      return [': keep-alive'];
    case 'done':
      return ['data: [DONE]'];
    case 'usageBraces':
      return [`data: {"a":${'{"usage":'.repeat(e.depth)}1${'}'.repeat(e.depth)}}`];
    case 'choicesLate':
      return [`data: {"id":"x","choices":${' '.repeat(e.spaces)}${e.empty ? '[]' : '[{"index":0}]'}}`];
    case 'dataLines':
      return Array.from({ length: e.lines }, (_, i) => (i === 0 ? 'data: {"a":' : i === e.lines - 1 ? 'data: 1}' : 'data: '));
    case 'anthropic': {
      const data =
        e.type === 'message_start'
          ? `{"type":"message_start","message":{"id":"msg_1","model":"claude","usage":{"input_tokens":3,"output_tokens":1}}}`
          : e.type === 'content_block_delta'
            ? `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"${textOf(e.text, false)}"}}`
            : e.type === 'message_delta'
              ? `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}`
              : e.type === 'message_stop'
                ? `{"type":"message_stop"}`
                : `{"type":"error","error":{"type":"overloaded_error","message":"x"}}`;
      return e.named ? [`event: ${e.type}`, `data: ${data}`] : [`data: ${data}`];
    }
    case 'garbage':
      return [e.byte.repeat(e.count)];
  }
}

/** How a stream is cut into chunks. */
export type Chunking = { kind: 'bytes' } | { kind: 'every'; n: number } | { kind: 'random'; sizes: number[] } | { kind: 'whole' };

export const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  fc.constant({ kind: 'bytes' as const }),
  fc.record({ kind: fc.constant('every' as const), n: fc.integer({ min: 2, max: 700 }) }),
  fc.record({ kind: fc.constant('random' as const), sizes: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 40 }) }),
  fc.constant({ kind: 'whole' as const }),
);

export function cut(b: Buffer, c: Chunking): Buffer[] {
  const out: Buffer[] = [];
  if (c.kind === 'whole') return [b];
  let i = 0;
  for (let k = 0; i < b.length; k++) {
    const n = c.kind === 'bytes' ? 1 : c.kind === 'every' ? c.n : c.sizes[k % c.sizes.length]!;
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

export interface StreamRecipe {
  events: EventRecipe[];
  eol: '\n' | '\r\n' | '\r';
  /** The last event has no blank line after it (a stream cut short, or a line that never ends). */
  unterminated: boolean;
  chunking: Chunking;
}

export const streamRecipe: fc.Arbitrary<StreamRecipe> = fc.record({
  events: fc.array(eventRecipe, { minLength: 1, maxLength: 30 }),
  eol: fc.constantFrom('\n' as const, '\r\n' as const, '\r' as const),
  unterminated: fc.boolean(),
  chunking,
});

export function buildStream(r: StreamRecipe): Buffer {
  const events = r.events.map((e) => eventLines(e).join(r.eol));
  const text = events.map((e, i) => (r.unterminated && i === events.length - 1 ? e : e + r.eol + r.eol)).join('');
  return Buffer.from(text);
}
