// Incremental usage scanners for streamed answers. The gateway forwards upstream SSE bytes to the
// client untouched and feeds every chunk to a scanner as it passes (`push(chunk)`), so the scanner
// must cost next to nothing for the many chunks that carry no usage:
//
// - Event framing finds blank lines with Buffer.indexOf(Byte.LF) hops, so a chunk is crossed at native
//   speed; an event lying inside one chunk is looked at in place (no copy). Only an event split
//   across chunks is copied (the split-off tail) and joined when its end arrives.
// - Per event, the interesting members are found by hopping from `{` to `{` (single-byte indexOf,
//   memchr speed; an event has three or four) and checking the key bytes right before each brace:
//   `"usage": {` / `"delta": {` cannot be missed that way, and a look-alike inside a string only
//   costs a JSON.parse that then finds no top-level usage. JSON.parse runs only on the events that
//   hold usage (once or twice a stream) and only on that event's data. Substring searches
//   (Buffer.indexOf of a multi-byte pattern) are avoided: they cost ~1 ns per byte searched.
//
// The scanners themselves are in usage-stream-openai.ts and usage-stream-anthropic.ts; this file
// holds what they share (the SSE framing in SseScanner, the key look-ups, the estimate).
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
import type { TokenUsage } from './usage-types';
import { isSpace } from './usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { SplitEvent } from './split-event';
import { indexOfByte } from '../byte-index';

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
export function keyBefore(b: Buffer, brace: number, lo: number, key: Buffer): boolean {
  let i = brace - 1;
  while (i > lo && isSpace(b[i]!)) i--;
  if (i <= lo || b[i] !== Byte.COLON) return false;
  i--;
  while (i > lo && isSpace(b[i]!)) i--;
  if (b[i] !== Byte.QUOTE) return false;
  const start = i - key.length;
  if (start - 1 < lo) return false;
  for (let k = 0; k < key.length; k++) if (b[start + k] !== key[k]) return false;
  if (b[start - 1] !== Byte.QUOTE) return false;
  return start - 2 < lo || b[start - 2] !== Byte.BACKSLASH;
}

/**
 * First `open` byte in [from, e) that is the value of member `key`, or ~i when there is none, i
 * being where the search stopped (its steps are the caller's to count: most are a hop over an
 * event's data that push already counted).
 */
export function keyedValue(b: Buffer, from: number, e: number, lo: number, open: number, key: Buffer): number {
  let i = b.indexOf(open, from);
  while (i >= 0 && i < e && !keyBefore(b, i, lo, key)) i = b.indexOf(open, i + 1);
  return i >= 0 && i < e ? i : ~(i < 0 ? b.length : i);
}

/** Byte span of an event's fields. `data` spans the single data line's value, or is a joined copy. */
export interface EventFields {
  nameStart: number;
  nameEnd: number;
  dataBuf: Buffer | null;
  dataStart: number;
  dataEnd: number;
}

export function startsWith(b: Buffer, i: number, end: number, s: string): boolean {
  if (end - i < s.length) return false;
  for (let k = 0; k < s.length; k++) if (b[i + k] !== s.charCodeAt(k)) return false;
  return true;
}

export function spanIs(b: Buffer, s: number, e: number, str: string): boolean {
  return e - s === str.length && startsWith(b, s, e, str);
}

/** Splits the event b[s, e) into lines and picks out `event:` and `data:` (joined with Byte.LF if several). */
export function eventFields(b: Buffer, s: number, e: number, out: EventFields): void {
  out.nameStart = out.nameEnd = -1;
  out.dataBuf = null;
  out.dataStart = out.dataEnd = -1;
  let extra: Buffer[] | null = null;
  let i = s;
  while (i < e) {
    let nl = indexOfByte(b, Byte.LF, i);
    if (nl < 0 || nl > e) {
      scanSteps.n += (nl < 0 ? b.length : nl) - e; // the search ran past the event
      nl = e;
    }
    let le = nl;
    if (le > i && b[le - 1] === Byte.CR) le--;
    const c = b[i];
    if (c === 0x64 /* d */ && le - i >= 5 && b[i + 1] === 0x61 && b[i + 2] === 0x74 && b[i + 3] === 0x61 && b[i + 4] === Byte.COLON) {
      let v = i + 5;
      if (v < le && b[v] === 0x20) v++;
      if (out.dataBuf === null) {
        out.dataBuf = b;
        out.dataStart = v;
        out.dataEnd = le;
      } else {
        extra ??= [out.dataBuf.subarray(out.dataStart, out.dataEnd)];
        extra.push(Buffer.from([Byte.LF]), b.subarray(v, le));
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
 * SSE framing shared by both scanners. An event ends at a blank line (Byte.LF Byte.LF or CRLF CRLF; a blank
 * line may straddle two chunks). Subclasses see whole events through onEvent, which may ask for
 * the event to be dropped from the output when filtering, and, when filtering, the prefix of an
 * unterminated event through canRelease: until that says the event can no longer be dropped, its
 * bytes are held back (they are forwarded, or dropped, with the rest of the event).
 */
export abstract class SseScanner {
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
  /** The current event's bytes so far end with Byte.LF (1) or Byte.LF Byte.CR (2): half a blank line. */
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
    let i = 0; // where to look for the next Byte.LF
    let b = -1; // end of the current event (just past its blank line)
    if (this.nl !== 0) {
      if (chunk[0] === Byte.LF) b = 1;
      else if (this.nl === 1 && chunk[0] === Byte.CR && len > 1 && chunk[1] === Byte.LF) b = 2;
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
      this.nl = last === Byte.LF ? 1 : last === Byte.CR && prev === Byte.LF ? 2 : 0;
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

/** Index just past the first blank line at or after i (Byte.LF Byte.LF or Byte.LF Byte.CR Byte.LF), or -1. */
export function findBoundary(c: Buffer, i: number): number {
  const len = c.length;
  for (;;) {
    const j = indexOfByte(c, Byte.LF, i);
    if (j < 0) return -1;
    const n = c[j + 1];
    if (n === Byte.LF) return j + 2;
    if (n === Byte.CR && j + 2 < len && c[j + 2] === Byte.LF) return j + 3;
    i = j + 1;
  }
}

export function join(parts: Buffer[]): Buffer {
  if (parts.length < 2) return parts.length === 0 ? EMPTY : parts[0]!;
  const out = Buffer.concat(parts);
  scanSteps.n += out.length;
  return out;
}

/** Keys every scanner looks for: the delta object, and the delta members that are no generated text. */
export const K_DELTA = Buffer.from('delta');
export const DELTA_SKIP_KEYS = ['type', 'role', 'id', 'index', 'signature'] as const;

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

export function estimate(deltaEvents: number, textBytes: number): number {
  return Math.max(deltaEvents, Math.ceil(textBytes / 4));
}
