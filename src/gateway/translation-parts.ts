// One part of a Claude Code body translated alone, for the translation cache (translation-cache.ts,
// which says how a body is cut into parts and why their translations add up to the whole's): the
// head (every member but `messages`) or a unit of `messages`, with what the cache keeps of it —
// its bytes as sent, its chat JSON, the notices and shortened names it gave, its share of the
// input token estimate and a rough size for the cache's bound.
import { isLent } from '../server/large-buffers';
import { scanSteps } from '../scan-steps';
import { Byte } from '../json-bytes';
import { tallyTokens, type StringLength } from '../translate/count-tokens';
import { Dropped } from '../translate/dropped';
import { ToolNamer } from '../translate/names';
import { anthropicToOpenAIChat, checkMessages, translateTurns, type AnthropicToOpenAIOptions, type Conv } from '../translate/request-anthropic-to-openai';
import { MAX_JSON_DEPTH } from './json-depth';
import type { Layout } from './translation-layout';
import { hasControlByte, hydrateErrors, MARK, markerId, skeleton, splice, TOO_DEEP, type Skeleton } from './raw-translation';

/** Rough bytes of an entry beyond its JSON, and of each notice or name kept with it. */
const ENTRY_OVERHEAD = 160;
const ITEM_OVERHEAD = 96;

/** A notice the translation gave, to give again in order: tool(type), or item(param, type). */
export type Notice = [kind: 0, type: unknown] | [kind: 1, param: string, type: unknown];

/** A Dropped that also keeps the order of its notices, to be replayed into another one. */
class RecordingDropped extends Dropped {
  readonly notices: Notice[] = [];
  override tool(type: unknown): void {
    this.notices.push([0, type]);
    super.tool(type);
  }
  override item(param: string, type: unknown): void {
    this.notices.push([1, param, type]);
    super.item(param, type);
  }
}

/** Gives `into` the notices a part recorded, in their order. */
export function replay(into: Dropped, notices: readonly Notice[]): void {
  for (const n of notices) {
    if (n[0] === 0) into.tool(n[1]);
    else into.item(n[1], n[2]);
  }
}

/** One unit of `messages`, translated. */
export interface Unit {
  /** Names it as the parent of the unit after it. */
  id: number;
  /** The id of the unit before it (or of its options' root): part of what it is found by. */
  parent: number;
  /** Its bytes (from the end of the unit before: separators included), as the client sent them. */
  raw: Buffer;
  /**
   * A comma, then its chat messages' JSON, comma-separated, long strings spliced in (empty: none):
   * it follows what comes before it as it is, and the first unit of a body goes without its comma
   * (a view). One piece a unit where there were two: the pieces go to the socket one write each.
   */
  out: Buffer;
  /** Long strings it had (the uncached path takes no body without any). */
  marks: number;
  notices: Notice[];
  /** Tool names it shortened: upstream → client. */
  names: [string, string][];
  /** Its share of the input token estimate, before rounding. */
  chars: number;
  tokens: number;
  size: number;
}

/** The head (everything but `messages`), translated. */
export interface Head {
  /** Its options' id (`optionIds`): part of what it is found by. */
  options: number;
  /** The body's bytes before `messages`' array, then after it. */
  raw: Buffer;
  before: number;
  /** `{"model":…,"messages":[` and the system message when there is one. */
  pre: Buffer;
  hasSystem: boolean;
  /** `]` and the members after `messages`, to the end. */
  post: Buffer;
  marks: number;
  /** Notices and shortened names before `messages` (tools) and after (tool_choice). */
  noticesBefore: Notice[];
  noticesAfter: Notice[];
  namesBefore: [string, string][];
  namesAfter: [string, string][];
  stopSequences: readonly string[] | undefined;
  /** The client's `model` value, and the context's model. */
  model: unknown;
  ctxModel: string;
  /** A stream: the context carries an input token estimate. */
  stream: boolean;
  chars: number;
  tokens: number;
  size: number;
}

/** Ids of units and of the cache's roots: one sequence per worker, so an id names one thing. */
let nextId = 1;

export function newId(): number {
  return nextId++;
}

const EMPTY_ARRAY = Buffer.from('[]');
const EMPTY = Buffer.alloc(0);

function lengthOf(sk: Skeleton): StringLength {
  return (s) => {
    const id = markerId(s);
    return id >= 0 && id < sk.units.length ? sk.units[id]! : s.length;
  };
}

function namesOf(map: ReadonlyMap<string, string> | undefined): [string, string][] {
  return map === undefined ? [] : [...map];
}

/**
 * A buffer that owns its memory, to be kept: a short one is otherwise a slice of Node's shared
 * 8 KB pool, and keeping it would keep the whole slab (the bound counts the bytes kept). A lent
 * buffer (the client's body) is always copied: it is lent again once this call has sent it.
 */
function owned(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length && !isLent(b)) return b;
  const c = Buffer.allocUnsafeSlow(b.length);
  b.copy(c);
  return c;
}

/**
 * messages[from..to), the body's bytes raw[start..end), translated alone; null: not as the whole
 * body would be. `own` is what the unit keeps as its bytes (from the end of the unit before).
 */
export function translateUnit(raw: Buffer, own: Buffer, start: number, end: number, from: number, to: number, opts: AnthropicToOpenAIOptions, parent: number): Unit | null {
  const part = raw.subarray(start, end);
  const sk = skeleton(part, MAX_JSON_DEPTH, true);
  if (sk === null || sk === TOO_DEEP) return null;
  try {
    scanSteps.n += sk.text.length;
    const arr = JSON.parse(`[${sk.text}]`) as unknown[];
    if (arr.length !== to - from) return null;
    // Indexed as in the whole body: paths in errors and notices name messages[k].
    const msgs: unknown[] = [];
    msgs.length = to;
    for (let k = 0; k < arr.length; k++) msgs[from + k] = arr[k];
    hydrateErrors({ messages: arr }, part, sk);
    const dropped = new RecordingDropped();
    const c: Conv = { namer: new ToolNamer(), history: opts.thinkingHistory ?? 'drop', keep: opts.keepCacheControl === true, out: [], dropped, deferred: [] };
    checkMessages(msgs, from, to);
    const pending = translateTurns(msgs, from, to, c);
    // Tool calls without their results (only the last unit can end so): the whole body is refused.
    if ((pending !== null && pending.size > 0) || c.deferred.length > 0) return null;
    const t = tallyTokens({ messages: arr }, lengthOf(sk));
    const json = Buffer.from(JSON.stringify(c.out));
    scanSteps.n += 2 * json.length;
    // The array without its `]`; its `[` becomes the unit's leading comma below.
    const spliced = json.length > 2 ? splice(json.subarray(0, json.length - 1), part, sk) : EMPTY;
    if (spliced === null) return null;
    const out = owned(spliced);
    if (out.length > 0) out[0] = Byte.COMMA;
    const names = namesOf(c.namer.map);
    const size = own.length + out.length + ENTRY_OVERHEAD + ITEM_OVERHEAD * (dropped.notices.length + names.length);
    return { id: newId(), parent, raw: owned(own), out, marks: sk.start.length, notices: dropped.notices, names, chars: t.chars, tokens: t.tokens, size };
  } catch {
    return null; // a translation error, or invalid JSON: the uncached path says which
  }
}

/** The body without its `messages` (`[]` in their place), translated; null: not as the whole body would be. */
export function translateHead(raw: Buffer, l: Layout, opts: AnthropicToOpenAIOptions, options: number): Head | null {
  const headRaw = Buffer.concat([raw.subarray(0, l.arrStart), EMPTY_ARRAY, raw.subarray(l.arrEnd)]);
  scanSteps.n += 2 * headRaw.length; // the copy and the control-byte check
  if (hasControlByte(headRaw)) return null;
  const sk = skeleton(headRaw, MAX_JSON_DEPTH, true);
  if (sk === null || sk === TOO_DEEP) return null;
  try {
    scanSteps.n += sk.text.length;
    const body = JSON.parse(sk.text) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
    const len = lengthOf(sk);
    const dropped = new RecordingDropped();
    let noticesAt = -1;
    let namesAt = 0;
    const r = anthropicToOpenAIChat(body, {
      ...opts,
      stringLength: len,
      dropped,
      // Where the messages' notices and names go, between the tools' and tool_choice's.
      messages: (_v, c) => {
        noticesAt = dropped.notices.length;
        namesAt = c.namer.map?.size ?? 0;
      },
    });
    if (noticesAt < 0 || r.ctx.stopSequences?.some((s) => s.startsWith(MARK))) return null;
    const msgs = r.body.messages as unknown[];
    if (msgs.length > 1) return null;
    r.body.messages = [];
    const json = Buffer.from(JSON.stringify(r.body));
    scanSteps.n += 2 * json.length;
    // The translator writes `model` then `messages` first: the units go right after this.
    const lead = Buffer.from(`{"model":${JSON.stringify(r.body.model)},"messages":[`);
    if (json.length <= lead.length || json.compare(lead, 0, lead.length, 0, lead.length) !== 0 || json[lead.length] !== Byte.RBRACKET) return null;
    const preJson = msgs.length === 1 ? Buffer.concat([lead, Buffer.from(JSON.stringify(msgs[0]))]) : lead;
    const pre = splice(preJson, headRaw, sk);
    const post = splice(json.subarray(lead.length), headRaw, sk);
    if (pre === null || post === null) return null;
    const names = namesOf(r.ctx.toolNames);
    const t = tallyTokens(body, len);
    const notices = dropped.notices;
    return {
      options,
      raw: owned(Buffer.concat([raw.subarray(0, l.arrStart), raw.subarray(l.arrEnd)])),
      before: l.arrStart,
      pre: owned(pre),
      hasSystem: msgs.length === 1,
      post: owned(post),
      marks: sk.start.length,
      noticesBefore: notices.slice(0, noticesAt),
      noticesAfter: notices.slice(noticesAt),
      namesBefore: names.slice(0, namesAt),
      namesAfter: names.slice(namesAt),
      stopSequences: r.ctx.stopSequences,
      model: body.model,
      ctxModel: r.ctx.model,
      stream: r.ctx.estimatedInputTokens !== undefined,
      chars: t.chars,
      tokens: t.tokens,
      size: raw.length - (l.arrEnd - l.arrStart) + pre.length + post.length + ENTRY_OVERHEAD + ITEM_OVERHEAD * (notices.length + names.length),
    };
  } catch {
    return null;
  }
}

