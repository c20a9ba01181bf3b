// Incremental usage scanners for streamed answers. The gateway forwards upstream SSE bytes to the
// client untouched and feeds every chunk to a scanner as it passes (`push(chunk)`), so the scanner
// must cost next to nothing for the many chunks that carry no usage:
//
// - Event framing finds blank lines with Buffer.indexOf(LF) hops, so a chunk is crossed at native
//   speed; an event lying inside one chunk is looked at in place (no copy). Only an event split
//   across chunks is copied (the split-off tail) and joined when its end arrives.
// - Per event, the interesting members are found by hopping from `{` to `{` (single-byte indexOf,
//   memchr speed; an event has three or four) and checking the key bytes right before each brace:
//   `"usage": {` / `"delta": {` cannot be missed that way, and a look-alike inside a string only
//   costs a JSON.parse that then finds no top-level usage. JSON.parse runs only on the events that
//   hold usage (once or twice a stream) and only on that event's data. Substring searches
//   (Buffer.indexOf of a multi-byte pattern) are avoided: they cost ~1 ns per byte searched.
//
// OpenAIUsageScanner: `id`/`model` of the first chunk, the final usage chunk (`"choices": []` +
// `usage`), and an estimate of generated tokens from the deltas seen, for streams cut before the
// usage chunk. With `hideUsageChunk: true` (the gateway asked for usage the client did not ask
// for) `push` returns the bytes to forward: the input minus the usage-only event(s), every other
// byte — `data: [DONE]` included — exactly as received.
//
// AnthropicUsageScanner: `message_start` (id, model, input and cache counts), `message_delta`
// (cumulative usage), `message_stop`, and the same delta estimate.
//
// Call `end()` when the upstream stream is over (finished, cut, or aborted) and forward what it
// returns: a last event without its blank line is scanned then, and with hideUsageChunk an event
// still held back (undecided when its chunk ended) is released or dropped there.
//
// The completion estimate (used only when the provider's own count never arrived) is
//   max(number of deltas carrying text, ceil(bytes of delta string values / 4))
// where the bytes are those of the JSON-escaped text, thinking and tool-argument values (not
// `type` tags or signatures). OpenAI streams carry about one token per delta, so the count is
// close there; the byte rule covers providers that batch several tokens per event.
import { anthropicUsageFromObject, openaiUsageFromObject } from './usage-body';
import { anthropicUsage, count, openaiUsage, type TokenUsage } from './usage-types';
import { BACKSLASH, COLON, CR, isSpace, LBRACE, LBRACKET, LF, QUOTE, RBRACKET, readTopLevelStrings, skipSpace, stringValueBytes } from './usage-json';
import { scanSteps } from '../scan-steps';
import { SplitEvent } from './split-event';

/** An event longer than this (unterminated) is no longer kept for scanning. */
const MAX_SCAN_EVENT = 1 << 20;
/** An undecided event held back from the client longer than this is released (usage chunks are tiny). */
const MAX_HELD = 64 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * Is the `{`/`[` at b[brace] the value of member `"key"` (key given as bytes, no quotes)? Reads
 * backwards: spaces, `:`, spaces, `"key"`, and an opening quote that is not escaped. Steps: a few
 * bytes more than the key, and the spaces, which lie between the brace and the one before it:
 * the bytes of the hop to this brace (callers count each hop three times, for its own walk and
 * for up to two looks back from its brace).
 */
function keyBefore(b: Buffer, brace: number, lo: number, key: Buffer): boolean {
  let i = brace - 1;
  while (i > lo && isSpace(b[i]!)) i--;
  if (i <= lo || b[i] !== COLON) return false;
  i--;
  while (i > lo && isSpace(b[i]!)) i--;
  if (b[i] !== QUOTE) return false;
  const start = i - key.length;
  if (start - 1 < lo) return false;
  for (let k = 0; k < key.length; k++) if (b[start + k] !== key[k]) return false;
  if (b[start - 1] !== QUOTE) return false;
  return start - 2 < lo || b[start - 2] !== BACKSLASH;
}

/**
 * First `open` byte in [from, e) that is the value of member `key`, or ~i when there is none, i
 * being where the search stopped (its steps are the caller's to count: most are a hop over an
 * event's data that push already counted).
 */
function keyedValue(b: Buffer, from: number, e: number, lo: number, open: number, key: Buffer): number {
  let i = b.indexOf(open, from);
  while (i >= 0 && i < e && !keyBefore(b, i, lo, key)) i = b.indexOf(open, i + 1);
  return i >= 0 && i < e ? i : ~(i < 0 ? b.length : i);
}

/** Byte span of an event's fields. `data` spans the single data line's value, or is a joined copy. */
interface EventFields {
  nameStart: number;
  nameEnd: number;
  dataBuf: Buffer | null;
  dataStart: number;
  dataEnd: number;
}

function startsWith(b: Buffer, i: number, end: number, s: string): boolean {
  if (end - i < s.length) return false;
  for (let k = 0; k < s.length; k++) if (b[i + k] !== s.charCodeAt(k)) return false;
  return true;
}

function spanIs(b: Buffer, s: number, e: number, str: string): boolean {
  return e - s === str.length && startsWith(b, s, e, str);
}

/** Splits the event b[s, e) into lines and picks out `event:` and `data:` (joined with LF if several). */
function eventFields(b: Buffer, s: number, e: number, out: EventFields): void {
  out.nameStart = out.nameEnd = -1;
  out.dataBuf = null;
  out.dataStart = out.dataEnd = -1;
  let extra: Buffer[] | null = null;
  let i = s;
  while (i < e) {
    let nl = b.indexOf(LF, i);
    if (nl < 0 || nl > e) {
      scanSteps.n += (nl < 0 ? b.length : nl) - e; // the search ran past the event
      nl = e;
    }
    let le = nl;
    if (le > i && b[le - 1] === CR) le--;
    const c = b[i];
    if (c === 0x64 /* d */ && le - i >= 5 && b[i + 1] === 0x61 && b[i + 2] === 0x74 && b[i + 3] === 0x61 && b[i + 4] === COLON) {
      let v = i + 5;
      if (v < le && b[v] === 0x20) v++;
      if (out.dataBuf === null) {
        out.dataBuf = b;
        out.dataStart = v;
        out.dataEnd = le;
      } else {
        extra ??= [out.dataBuf.subarray(out.dataStart, out.dataEnd)];
        extra.push(Buffer.from([LF]), b.subarray(v, le));
      }
    } else if (c === 0x65 /* e */ && startsWith(b, i, le, 'event:')) {
      let v = i + 6;
      if (v < le && b[v] === 0x20) v++;
      out.nameStart = v;
      out.nameEnd = le;
    } else if (le === i) {
      break; // the blank line: the event is over
    }
    i = nl + 1;
  }
  if (extra) {
    out.dataBuf = Buffer.concat(extra);
    scanSteps.n += 4 * out.dataBuf.length; // the copy, and the hop over its braces (×3)
    out.dataStart = 0;
    out.dataEnd = out.dataBuf.length;
  }
}

/**
 * SSE framing shared by both scanners. An event ends at a blank line (LF LF or CRLF CRLF; a blank
 * line may straddle two chunks). Subclasses see whole events through onEvent, which may ask for
 * the event to be dropped from the output when filtering, and, when filtering, the prefix of an
 * unterminated event through canRelease: until that says the event can no longer be dropped, its
 * bytes are held back (they are forwarded, or dropped, with the rest of the event).
 */
abstract class SseScanner {
  /** A copy of the current unterminated event's bytes from earlier chunks (for scanning). */
  private readonly split = new SplitEvent();
  /** The current event outgrew MAX_SCAN_EVENT: it is passed through unscanned. */
  private tooLong = false;
  /**
   * Bytes of the current event not yet forwarded (filtering): all of it so far, a view of the
   * copy in `split`, which keeps these bytes even when the event outgrows MAX_SCAN_EVENT.
   */
  private held: Buffer = EMPTY;
  /** The current event can no longer be dropped: its bytes go out as they arrive. */
  private released = false;
  /** Held bytes of an event just found to be kept, to emit before the chunk's own bytes. */
  private pendingHeld: Buffer | null = null;
  /** The current event's bytes so far end with LF (1) or LF CR (2): half a blank line. */
  private nl = 0;
  /** Last byte of the current event so far (-1 when none). */
  private lastByte = -1;
  private ended = false;
  protected readonly fields: EventFields = { nameStart: -1, nameEnd: -1, dataBuf: null, dataStart: -1, dataEnd: -1 };

  constructor(private readonly filtering: boolean) {}

  /** Handles one whole event b[s, e) (its blank line included). Returns true to drop it. */
  protected abstract onEvent(b: Buffer, s: number, e: number): boolean;
  /**
   * Filtering: may the unterminated event b[s, e) be forwarded now (it cannot be one to drop)?
   * Asked again as the event grows, with the same bytes and more after them, until it says yes or
   * the event ends: an answer may carry on from where the last one stopped.
   */
  protected canRelease(_b: Buffer, _s: number, _e: number): boolean {
    return true;
  }
  /** The current event ended: canRelease starts again with the next one. */
  protected eventEnded(): void {}

  /**
   * Scans a chunk. Returns the bytes to forward to the client: the chunk itself unless filtering
   * dropped or held something back. The chunk is not kept (split-off tails are copied).
   */
  push(chunk: Buffer): Buffer {
    if (this.ended) return chunk;
    const len = chunk.length;
    if (len === 0) return chunk;
    // Steps: walks over this chunk's bytes, each once at most: the search for blank lines (each
    // starts where the last event ended), and, for the events that end in it, the walk over their
    // lines and the hop from brace to brace over their data (it stops at the next event's first
    // brace, or at the chunk's end), counted three times for keyBefore's looks back. An event
    // split across chunks is walked in its copy: counted where that is made (wholeEvent, end).
    scanSteps.n += 5 * len;
    let outs: Buffer[] | null = null; // output pieces, when the output is not simply chunk[fwd..]
    let fwd = 0; // chunk[fwd..] is neither emitted nor dropped yet
    let pos = 0; // start of the current event in chunk (0: it may have begun in an earlier chunk)
    let i = 0; // where to look for the next LF
    let b = -1; // end of the current event (just past its blank line)
    if (this.nl !== 0) {
      if (chunk[0] === LF) b = 1;
      else if (this.nl === 1 && chunk[0] === CR && len > 1 && chunk[1] === LF) b = 2;
      this.nl = 0;
    }
    for (;;) {
      if (b < 0) b = findBoundary(chunk, i);
      if (b < 0) break;
      const drop = this.wholeEvent(chunk, pos, b);
      if (drop) {
        outs ??= [];
        if (pos > fwd) outs.push(chunk.subarray(fwd, pos));
        fwd = b;
      } else if (this.pendingHeld !== null) {
        // The event began in an earlier chunk (pos === fwd === 0): its held bytes go first.
        outs ??= [];
        outs.push(this.pendingHeld);
        this.pendingHeld = null;
      }
      pos = i = b;
      b = -1;
    }
    if (pos < len) {
      const last = chunk[len - 1]!;
      const prev = len - 1 > pos ? chunk[len - 2]! : pos === 0 ? this.lastByte : -1;
      this.nl = last === LF ? 1 : last === CR && prev === LF ? 2 : 0;
      this.lastByte = last;
      this.keep(chunk, pos);
    }
    if (!this.filtering) return chunk;
    if (pos < len && !this.released) {
      let release = this.tooLong || this.held.length + (len - pos) > MAX_HELD;
      if (!release) release = this.canRelease(this.split.bytes(), 0, this.split.length);
      if (release) {
        this.released = true;
        if (this.held.length > 0) {
          outs ??= []; // pos === fwd === 0 here
          outs.push(this.held);
          this.held = EMPTY;
        }
      } else {
        this.held = this.split.bytes(); // the event so far: what was held, and the copy keep() just made
        outs ??= [];
        if (pos > fwd) outs.push(chunk.subarray(fwd, pos));
        return join(outs);
      }
    }
    if (outs === null) return fwd === 0 ? chunk : chunk.subarray(fwd);
    if (len > fwd) outs.push(chunk.subarray(fwd));
    return join(outs);
  }

  /** Keeps a copy of the unterminated tail chunk[pos..] for scanning. */
  private keep(chunk: Buffer, pos: number): void {
    if (this.tooLong) return;
    if (this.split.length + (chunk.length - pos) > MAX_SCAN_EVENT) {
      this.tooLong = true;
      this.split.clear();
      return;
    }
    this.split.append(chunk, pos, chunk.length);
  }

  /** The event ending at chunk[b), begun at chunk[pos] or in earlier parts. Returns "drop it". */
  private wholeEvent(chunk: Buffer, pos: number, b: number): boolean {
    if (this.split.length === 0 && !this.tooLong && !this.released) {
      // The common case: the whole event is in this chunk and nothing of it is held.
      this.lastByte = -1;
      return this.onEvent(chunk, pos, b) && this.filtering;
    }
    let drop = false;
    if (!this.tooLong && this.split.length > 0) {
      this.split.append(chunk, pos, b);
      scanSteps.n += 4 * this.split.length; // its lines, and the hop over its data (×3)
      drop = this.onEvent(this.split.bytes(), 0, this.split.length);
    } else if (!this.tooLong) {
      drop = this.onEvent(chunk, pos, b);
    }
    if (!this.filtering || this.released) drop = false;
    if (!drop && this.held.length > 0) this.pendingHeld = this.held;
    this.split.clear();
    this.tooLong = false;
    this.held = EMPTY;
    this.released = false;
    this.lastByte = -1;
    this.eventEnded();
    return drop;
  }

  /**
   * The stream is over (finished or cut). A last event that never got its blank line is scanned
   * as if it had. Returns the bytes still to forward (filtering; usually none).
   */
  end(): Buffer {
    if (this.ended) return EMPTY;
    this.ended = true;
    if (this.split.length === 0 || this.tooLong) return this.held;
    scanSteps.n += 4 * this.split.length; // its lines, and the hop over its data (×3)
    const drop = this.onEvent(this.split.bytes(), 0, this.split.length) && this.filtering && !this.released;
    return drop ? EMPTY : this.held;
  }
}

/** Index just past the first blank line at or after i (LF LF or LF CR LF), or -1. */
function findBoundary(c: Buffer, i: number): number {
  const len = c.length;
  for (;;) {
    const j = c.indexOf(LF, i);
    if (j < 0) return -1;
    const n = c[j + 1];
    if (n === LF) return j + 2;
    if (n === CR && j + 2 < len && c[j + 2] === LF) return j + 3;
    i = j + 1;
  }
}

function join(parts: Buffer[]): Buffer {
  if (parts.length < 2) return parts.length === 0 ? EMPTY : parts[0]!;
  const out = Buffer.concat(parts);
  scanSteps.n += out.length;
  return out;
}

// ---------------------------------------------------------------- OpenAI

const K_USAGE = Buffer.from('usage');
const K_DELTA = Buffer.from('delta');
const K_CHOICES = Buffer.from('choices');
const DELTA_SKIP_KEYS = ['type', 'role', 'id', 'index', 'signature'] as const;
const ID_MODEL = ['id', 'model'] as const;

/** canRelease's steps: past the line breaks an event may start with, to `"choices": [`, to its first element. */
const LEADING_BREAKS = 0;
const CHOICES = 1;
const FIRST_ELEMENT = 2;

export interface StreamUsage {
  id: string | undefined;
  model: string | undefined;
  /** Usage as the provider reported it, when it did. */
  usage: TokenUsage | undefined;
  /** The provider's final usage arrived (OpenAI usage chunk; Anthropic message_delta). */
  complete: boolean;
  /** The stream's terminator arrived (`data: [DONE]`; Anthropic `message_stop`). */
  done: boolean;
  /** Deltas that carried text, and the estimate of generated tokens from them. */
  deltaEvents: number;
  estimatedCompletionTokens: number;
}

function estimate(deltaEvents: number, textBytes: number): number {
  return Math.max(deltaEvents, Math.ceil(textBytes / 4));
}

export interface OpenAIUsageScannerOptions {
  /** Drop the usage-only chunk from the bytes `push` returns (the client did not ask for it). */
  hideUsageChunk?: boolean;
}

export class OpenAIUsageScanner extends SseScanner {
  private id: string | undefined;
  private model: string | undefined;
  private usage: TokenUsage | undefined;
  private sawUsage = false;
  private done = false;
  private idTries = 0;
  private deltaEvents = 0;
  private textBytes = 0;
  private readonly hide: boolean;
  /** How far canRelease got in the current unterminated event. */
  private releaseStep = LEADING_BREAKS;
  private releaseAt = 0;

  constructor(opts: OpenAIUsageScannerOptions = {}) {
    super(opts.hideUsageChunk === true);
    this.hide = opts.hideUsageChunk === true;
  }

  protected onEvent(b: Buffer, s: number, e: number): boolean {
    const f = this.fields;
    eventFields(b, s, e, f);
    const d = f.dataBuf;
    if (d === null) return false;
    let ds = f.dataStart;
    let de = f.dataEnd;
    while (ds < de && (d[ds] === 0x20 || d[ds] === 0x09)) ds++;
    while (de > ds && (d[de - 1] === 0x20 || d[de - 1] === 0x09)) de--;
    if (ds !== f.dataStart || de !== f.dataEnd) scanSteps.n += ds - f.dataStart + (f.dataEnd - de);
    if (spanIs(d, ds, de, '[DONE]')) {
      this.done = true;
      return false;
    }
    if (d[ds] !== LBRACE) return false;
    // id/model: from the first data events that have them (Azure's first chunk has empty ones).
    if ((this.id === undefined || this.model === undefined) && this.idTries < 4) {
      this.idTries++;
      const got: Record<string, string> = {};
      readTopLevelStrings(d, ds, de, ID_MODEL, got);
      if (got.id) this.id ??= got.id;
      if (got.model) this.model ??= got.model;
    }
    // One pass over the event's `{`s: the delta object, and any `"usage": {` (`"usage": null`
    // rides on every chunk of an include_usage stream and is not a brace).
    // The event is parsed once at most: a parse that found no usage would find none again, at
    // the next brace that looks like `"usage": {` (a hostile event can be made of nothing else).
    let delta = -1;
    let parsed = false;
    for (let i = d.indexOf(LBRACE, ds + 1); i >= 0 && i < de; i = d.indexOf(LBRACE, i + 1)) {
      if (delta < 0 && keyBefore(d, i, ds, K_DELTA)) {
        delta = i;
      } else if (!parsed && keyBefore(d, i, ds, K_USAGE)) {
        parsed = true;
        const r = this.usageEvent(d, ds, de);
        if (r !== null) return r;
      }
    }
    if (delta >= 0) this.countDelta(d, delta, de);
    return false;
  }

  /** An event with a `"usage": {`: parse it. Returns "drop it", or null if it held no usage after all. */
  private usageEvent(d: Buffer, ds: number, de: number): boolean | null {
    let obj: unknown;
    scanSteps.n += 2 * (de - ds);
    try {
      obj = JSON.parse(d.toString('utf8', ds, de));
    } catch {
      return null;
    }
    if (typeof obj !== 'object' || obj === null) return null;
    let o = obj as { usage?: unknown; choices?: unknown; id?: unknown; model?: unknown; response?: unknown };
    // The Responses API (Codex) reports usage, id and model on `response` of response.completed.
    if (o.usage === undefined && typeof o.response === 'object' && o.response !== null) o = o.response as typeof o;
    const u = openaiUsageFromObject(o.usage);
    if (!u) return null;
    this.usage = u;
    this.sawUsage = true;
    if (this.id === undefined && typeof o.id === 'string' && o.id) this.id = o.id;
    if (this.model === undefined && typeof o.model === 'string' && o.model) this.model = o.model;
    const usageOnly = Array.isArray(o.choices) && o.choices.length === 0;
    if (!usageOnly) {
      // A second hop over the data (a usage event that also carries a delta: once a stream).
      const delta = keyedValue(d, ds + 1, de, ds, LBRACE, K_DELTA);
      scanSteps.n += 3 * ((delta < 0 ? ~delta : delta) - ds);
      if (delta >= 0) this.countDelta(d, delta, de);
    }
    return usageOnly && this.hide;
  }

  private countDelta(d: Buffer, brace: number, de: number): void {
    const n = stringValueBytes(d, brace, de, DELTA_SKIP_KEYS);
    if (n > 0) {
      this.deltaEvents++;
      this.textBytes += n;
    }
  }

  /**
   * An unterminated event may still be the usage-only chunk until its `"choices"` value shows
   * an element (or it is plainly not a JSON data event). Each call goes on from where the last
   * one stopped (releaseAt, in the step releaseStep), so an event held back over many chunks is
   * looked at once: what was decided about its first bytes holds, since a `[` is the value of
   * `"choices"` or not by the bytes before it.
   */
  protected override canRelease(b: Buffer, s: number, e: number): boolean {
    let i = this.releaseAt > s ? this.releaseAt : s;
    if (this.releaseStep === LEADING_BREAKS) {
      const from = i;
      while (i < e && (b[i] === LF || b[i] === CR)) i++;
      scanSteps.n += i - from;
      this.releaseAt = i;
      if (i >= e) return false;
      if (b[i] === COLON) return true; // a comment (`: keep-alive`) carries nothing
      this.releaseStep = CHOICES;
    }
    if (this.releaseStep === CHOICES) {
      const v = keyedValue(b, i, e, s, LBRACKET, K_CHOICES);
      scanSteps.n += 3 * ((v < 0 ? ~v : v) - i);
      if (v < 0) {
        this.releaseAt = e;
        return false;
      }
      this.releaseStep = FIRST_ELEMENT;
      i = v + 1;
    }
    const first = skipSpace(b, i, e);
    scanSteps.n += first - i;
    this.releaseAt = first;
    if (first >= e) return false;
    return b[first] !== RBRACKET;
  }

  protected override eventEnded(): void {
    this.releaseStep = LEADING_BREAKS;
    this.releaseAt = 0;
  }

  result(): StreamUsage {
    return {
      id: this.id,
      model: this.model,
      usage: this.usage,
      complete: this.sawUsage,
      done: this.done,
      deltaEvents: this.deltaEvents,
      estimatedCompletionTokens: estimate(this.deltaEvents, this.textBytes),
    };
  }

  /**
   * Usage to charge: the provider's, or — for a stream cut before its usage chunk — the prompt
   * estimate the caller made from the request and the completion estimate from the deltas seen
   * (marked `estimated`).
   */
  usageOrEstimate(promptTokensEstimate: number): TokenUsage {
    if (this.usage) return this.usage;
    const u = openaiUsage(promptTokensEstimate, estimate(this.deltaEvents, this.textBytes));
    u.estimated = true;
    return u;
  }
}

// ---------------------------------------------------------------- Anthropic

const P_TYPE = ['type'] as const;

export class AnthropicUsageScanner extends SseScanner {
  private id: string | undefined;
  private model: string | undefined;
  private started = false;
  private sawDelta = false;
  private done = false;
  private errored = false;
  private input = 0;
  private output = 0;
  private cacheRead = 0;
  private cacheCreation = 0;
  private cacheCreation1h = 0;
  private deltaEvents = 0;
  private textBytes = 0;
  constructor() {
    super(false);
  }

  protected onEvent(b: Buffer, s: number, e: number): boolean {
    const f = this.fields;
    eventFields(b, s, e, f);
    const d = f.dataBuf;
    let ns = f.nameStart;
    let ne = f.nameEnd;
    let nb = b;
    if (ns < 0) {
      // No `event:` line (some proxies): the data's `type` names the event.
      if (d === null) return false;
      const ds = skipSpace(d, f.dataStart, f.dataEnd);
      if (ds !== f.dataStart) scanSteps.n += ds - f.dataStart;
      if (d[ds] !== LBRACE) return false;
      const got: Record<string, string> = {};
      readTopLevelStrings(d, ds, f.dataEnd, P_TYPE, got);
      if (got.type === undefined) return false;
      nb = Buffer.from(got.type, 'latin1');
      ns = 0;
      ne = nb.length;
    }
    if (spanIs(nb, ns, ne, 'content_block_delta')) {
      if (d !== null) this.countDelta(d, f.dataStart, f.dataEnd);
    } else if (spanIs(nb, ns, ne, 'message_start')) {
      if (d !== null) this.onMessageStart(d, f.dataStart, f.dataEnd);
    } else if (spanIs(nb, ns, ne, 'message_delta')) {
      if (d !== null) this.onMessageDelta(d, f.dataStart, f.dataEnd);
    } else if (spanIs(nb, ns, ne, 'message_stop')) {
      this.done = true;
    } else if (spanIs(nb, ns, ne, 'error')) {
      this.errored = true;
    }
    return false;
  }

  private countDelta(d: Buffer, ds: number, de: number): void {
    const v = keyedValue(d, ds + 1, de, ds, LBRACE, K_DELTA); // the hop over the data: push counted it
    if (v < 0) return;
    const n = stringValueBytes(d, v, de, DELTA_SKIP_KEYS);
    if (n > 0) {
      this.deltaEvents++;
      this.textBytes += n;
    }
  }

  private parse(d: Buffer, ds: number, de: number): Record<string, unknown> | undefined {
    scanSteps.n += 2 * (de - ds);
    try {
      const o: unknown = JSON.parse(d.toString('utf8', ds, de));
      return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private onMessageStart(d: Buffer, ds: number, de: number): void {
    const o = this.parse(d, ds, de);
    const m = o && typeof o.message === 'object' && o.message !== null ? (o.message as Record<string, unknown>) : undefined;
    if (!m) return;
    if (typeof m.id === 'string') this.id ??= m.id;
    if (typeof m.model === 'string') this.model ??= m.model;
    this.merge(m.usage);
    this.started = true;
  }

  private onMessageDelta(d: Buffer, ds: number, de: number): void {
    const o = this.parse(d, ds, de);
    if (!o) return;
    if (this.merge(o.usage)) this.sawDelta = true;
  }

  /**
   * Counts in message_start and message_delta are cumulative for the message, and newer APIs
   * repeat input and cache counts in message_delta: each field keeps the largest value reported,
   * so a later report can only add, and a proxy's zero placeholder cannot erase a real count.
   */
  private merge(raw: unknown): boolean {
    const u = anthropicUsageFromObject(raw);
    if (!u) return false;
    this.input = Math.max(this.input, u.prompt_tokens);
    this.output = Math.max(this.output, u.completion_tokens);
    this.cacheRead = Math.max(this.cacheRead, u.cache_read_input_tokens);
    this.cacheCreation = Math.max(this.cacheCreation, u.cache_creation_input_tokens);
    this.cacheCreation1h = Math.max(this.cacheCreation1h, count(u.cache_creation_1h_input_tokens));
    return true;
  }

  private reported(): TokenUsage | undefined {
    if (!this.started && !this.sawDelta) return undefined;
    return anthropicUsage(this.input, this.output, this.cacheRead, this.cacheCreation, this.cacheCreation1h);
  }

  /** The stream ended in an `error` event. */
  get sawError(): boolean {
    return this.errored;
  }

  result(): StreamUsage {
    return {
      id: this.id,
      model: this.model,
      usage: this.reported(),
      complete: this.sawDelta,
      done: this.done,
      deltaEvents: this.deltaEvents,
      estimatedCompletionTokens: estimate(this.deltaEvents, this.textBytes),
    };
  }

  /**
   * Usage to charge. Complete streams: as reported. Cut after message_start: its input and cache
   * counts, and output = max(reported so far, estimate from deltas), marked `estimated`. Cut
   * before message_start: the caller's prompt estimate and the delta estimate.
   */
  usageOrEstimate(promptTokensEstimate: number): TokenUsage {
    const est = estimate(this.deltaEvents, this.textBytes);
    if (this.sawDelta) return this.reported()!;
    const u = this.started
      ? anthropicUsage(this.input, Math.max(this.output, est), this.cacheRead, this.cacheCreation, this.cacheCreation1h)
      : anthropicUsage(promptTokensEstimate, est);
    u.estimated = true;
    return u;
  }
}
