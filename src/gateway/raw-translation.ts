// Anthropic → OpenAI request translation of a long body without decoding its long strings.
//
// Why: a Claude Code request is ~150 KB, nearly all of it long strings (tool results, text, tool
// descriptions) that the translation only moves from one place to another. Decoding, parsing,
// stringifying and encoding all of it costs ≈ 1.5 ms of CPU on Node 20 (PERF.md, scenario 7),
// against ~70 µs for the translation logic itself. A JSON string literal means the same thing in
// both dialects, escapes included, so its bytes can go from the client's body to the upstream's as
// they are.
//
// How:
//  1. The raw body is walked string literal by string literal (indexOf, as the body scan does).
//     The value of a `text`, `content` or `description` member that is at least LONG bytes is
//     replaced by a short marker string, "\u0000W<n>\u0000". The rest, the skeleton, is small.
//  2. The skeleton is parsed and translated by the ordinary translator, anthropicToOpenAIChat.
//     Markers act as the strings they stand for: the translator copies and concatenates them. It
//     reads the content of a long string in only two places, and both are served here:
//     - the "Error: " prefix of an is_error tool_result depends on its text: those are decoded
//       before translation (hydrateErrors);
//     - the stream's input-token estimate counts string lengths: the translator is given each
//       marker's decoded length (literalLength, utf8Excess).
//  3. The translated skeleton is stringified, and every marker is replaced by its literal's bytes.
//     A marker inside a string that was itself stringified again (a tool_use `input` becomes the
//     `arguments` string) sits one escaping level deeper; its string is decoded and escaped twice
//     there, exactly as the ordinary path writes it.
//
// The upstream gets the same JSON value as from the ordinary path; long strings keep the client's
// escapes. Anything outside what this handles returns null, and the caller takes the ordinary path
// (which also gives every error its exact message): a body that is short, not valid UTF-8, has a
// raw control byte (pretty-printed, or invalid in a string) or a NUL character in a short string;
// a bad escape in a long string; a translation error; a marker found where it cannot be placed.
// Images and documents need nothing special: their `data` is no text/content/description member,
// so it stays a real string, and their checks and sizes read it as on the ordinary path.
//
// The walk of step 1 also counts how deep arrays and objects nest (the bytes between string
// literals hold every bracket), so a body past the bound of json-depth.ts is answered 'too-deep'
// without a second walk; the ordinary path checks it with its own walk.
import { isAscii, isUtf8 } from 'node:buffer';
import { isSpace } from '../accounting/usage-json';
import { Byte } from '../json-bytes';
import { anthropicToOpenAIChat, type AnthropicToOpenAIOptions, type Dropped, type ToAnthropicContext } from '../translate';
import { skipString } from './json-skip';
import { MAX_JSON_DEPTH } from './json-depth';
import { scanSteps } from '../scan-steps';
import { indexOfByte } from '../byte-index';

/** Bodies shorter than this take the ordinary path: nothing to gain there. */
export const MIN_BODY = 16 * 1024;
/** String literals at least this long (bytes, quotes included) become markers. */
const LONG = 256;
export const MARK = '\u0000W';
/** How a marker starts in JSON text: `\u0000W`, after the backslash(es) of its escaping level. */
const MARK_JSON = Buffer.from('u0000W');

/** What anthropicToOpenAIChatRaw answers for a body that nests deeper than the bound it was given. */
export const TOO_DEEP = 'too-deep';

export interface RawTranslation {
  body: Buffer;
  ctx: ToAnthropicContext;
  /** What the translation left out (see translate/dropped.ts). */
  dropped?: Dropped;
  /** The client's `model` value. */
  model: unknown;
}

/** The key raw[start..end) (quotes included) is "text", "content" or "description" (byte checks: a native compare per key costs more). */
function isLongKey(raw: Buffer, start: number, end: number): boolean {
  const n = end - start;
  const c = raw[start + 1];
  if (n === 6) return c === 0x74 && raw[start + 2] === 0x65 && raw[start + 3] === 0x78 && raw[start + 4] === 0x74; // text
  if (n === 9) return c === 0x63 && raw.toString('latin1', start + 1, end - 1) === 'content';
  if (n === 13) return c === 0x64 && raw.toString('latin1', start + 1, end - 1) === 'description';
  return false;
}

/** True when some byte is below 0x20: four at a time through 32-bit words. */
export function hasControlByte(raw: Buffer): boolean {
  let i = 0;
  const head = (4 - ((raw.byteOffset + i) & 3)) & 3;
  for (; i < head && i < raw.length; i++) if (raw[i]! < 0x20) return true;
  const words = (raw.length - i) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(raw.buffer, raw.byteOffset + i, words);
    for (let k = 0; k < words; k++) {
      const w = w32[k]!;
      // A byte below 0x20 makes (byte - 0x20) borrow into its own high bit while its high bit was clear.
      if (((w - 0x20202020) & ~w & 0x80808080) !== 0) return true;
    }
    i += words * 4;
  }
  for (; i < raw.length; i++) if (raw[i]! < 0x20) return true;
  return false;
}

/** Bytes that may follow a backslash in a JSON string: " \ / b f n r t u (1), and hex digits (2). */
const ESC = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESC[c.charCodeAt(0)] = 1;
for (const c of '0123456789abcdefABCDEF') ESC[c.charCodeAt(0)] |= 2;

/**
 * Checks the escapes of the literal raw[start..end) (quotes included) and returns the UTF-16
 * length of its value, or -1 when an escape is invalid.
 */
function literalLength(raw: Buffer, start: number, end: number): number {
  // Escapes are searched for inside the literal only: searched for in the whole body, each
  // literal's last search would run on to the next backslash anywhere after it (to the end of a
  // body that has none), and a body of many long strings would be crossed once per string.
  const lit = raw.subarray(start + 1, end - 1);
  let units = lit.length;
  let i = 0;
  for (;;) {
    const b = indexOfByte(lit, Byte.BACKSLASH, i);
    scanSteps.n += (b < 0 ? lit.length : b) - i;
    if (b < 0) break;
    const c = lit[b + 1]!;
    if (c === 0x75 /* u */) {
      if (b + 5 >= lit.length || (ESC[lit[b + 2]!]! & ESC[lit[b + 3]!]! & ESC[lit[b + 4]!]! & ESC[lit[b + 5]!]! & 2) === 0) return -1;
      units -= 5;
      i = b + 6;
    } else {
      if ((ESC[c]! & 1) === 0) return -1;
      units -= 1;
      i = b + 2;
    }
  }
  scanSteps.n += end - start;
  return isAscii(lit) ? units : units + utf8Excess(raw, start + 1, end - 1);
}

/** Per byte of valid UTF-8: −1 for a continuation byte (10xxxxxx), +1 for a 4-byte lead (11110xxx, a surrogate pair). */
function byteExcess(c: number): number {
  return (c & 0xc0) === 0x80 ? -1 : c >= 0xf0 ? 1 : 0;
}

/** Bits 7, 15, 23, 31 of x, counted. */
function highBits(x: number): number {
  return ((x >>> 7) & 1) + ((x >>> 15) & 1) + ((x >>> 23) & 1) + (x >>> 31);
}

/**
 * UTF-16 units less UTF-8 bytes over raw[from..to) (valid UTF-8), four bytes at a time: a long
 * literal with one arrow in it would otherwise cost a JavaScript loop over all its bytes.
 */
export function utf8Excess(raw: Buffer, from: number, to: number): number {
  scanSteps.n += to - from;
  let d = 0;
  let k = from;
  for (; k < to && ((raw.byteOffset + k) & 3) !== 0; k++) d += byteExcess(raw[k]!);
  const words = (to - k) >>> 2;
  if (words > 0) {
    const w32 = new Uint32Array(raw.buffer, raw.byteOffset + k, words);
    for (let i = 0; i < words; i++) {
      const w = w32[i]!;
      // Bit 7 of each byte: set in `cont` for 10xxxxxx, in `lead4` for 1111xxxx.
      const cont = w & ~(w << 1) & 0x80808080;
      const lead4 = w & (w << 1) & (w << 2) & (w << 3) & 0x80808080;
      d += highBits(lead4) - highBits(cont);
    }
    k += words * 4;
  }
  for (; k < to; k++) d += byteExcess(raw[k]!);
  return d;
}

export function markerId(s: unknown): number {
  if (typeof s !== 'string' || s.length < 4 || s.charCodeAt(0) !== 0 || s.charCodeAt(1) !== 0x57 || s.charCodeAt(s.length - 1) !== 0) return -1;
  const n = Number(s.slice(2, -1));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

export interface Skeleton {
  text: string;
  /** Literal spans (quotes included) and decoded lengths, by marker number. */
  start: number[];
  end: number[];
  units: number[];
}

/**
 * Step 1: the body with its long member strings replaced by markers; null when not applicable,
 * TOO_DEEP when arrays and objects nest deeper than `maxDepth`. `raw` may be a part of a body
 * (the translation cache's turns), and with `allowNone` one without a long string.
 */
export function skeleton(raw: Buffer, maxDepth: number, allowNone = false): Skeleton | null | typeof TOO_DEEP {
  const parts: Buffer[] = [];
  const sk: Skeleton = { text: '', start: [], end: [], units: [] };
  let from = 0;
  let keyIsLong = false;
  let i = 0;
  let depth = 0;
  // Steps: the walk from string to string moves forward only (the body's length once); the
  // spaces around a string are looked at once more (raw bodies have few).
  scanSteps.n += raw.length;
  for (;;) {
    const q = indexOfByte(raw, Byte.QUOTE, i);
    // Every bracket sits between two string literals: a few KB of a Claude Code body in all.
    const gapEnd = q < 0 ? raw.length : q;
    for (let g = i; g < gapEnd; g++) {
      const c = raw[g]!;
      if (c === Byte.LBRACE || c === Byte.LBRACKET) {
        if (++depth > maxDepth) return TOO_DEEP;
      } else if (c === Byte.RBRACE || c === Byte.RBRACKET) depth--;
    }
    if (q < 0) break;
    const e = skipString(raw, q);
    if (e < 0) return null;
    let k = e;
    while (k < raw.length && isSpace(raw[k]!)) k++;
    if (k !== e) scanSteps.n += k - e;
    if (raw[k] === Byte.COLON) {
      keyIsLong = isLongKey(raw, q, e);
      i = k + 1;
      continue;
    }
    let p = q - 1;
    while (p >= 0 && isSpace(raw[p]!)) p--;
    if (p !== q - 1) scanSteps.n += q - 1 - p;
    if (keyIsLong && raw[p] === Byte.COLON && e - q >= LONG) {
      const units = literalLength(raw, q, e);
      if (units < 0) return null;
      parts.push(raw.subarray(from, q), Buffer.from(`"\\u0000W${sk.start.length}\\u0000"`));
      sk.start.push(q);
      sk.end.push(e);
      sk.units.push(units);
      from = e;
    }
    keyIsLong = false;
    i = e;
  }
  if (sk.start.length === 0 && !allowNone) return null;
  parts.push(raw.subarray(from));
  sk.text = Buffer.concat(parts).toString('utf8');
  scanSteps.n += 3 * sk.text.length; // the copy, the decode, and the search for NULs below
  // A NUL character of the client's own in a short string (always written `\u0000`: JSON has no
  // other way) could pass for part of a marker: each marker has two, nothing else may have one.
  let nuls = 0;
  for (let at = sk.text.indexOf('\\u0000'); at >= 0; at = sk.text.indexOf('\\u0000', at + 6)) nuls++;
  return nuls === 2 * sk.start.length ? sk : null;
}

function decode(raw: Buffer, sk: Skeleton, id: number): string {
  scanSteps.n += 2 * (sk.end[id]! - sk.start[id]!);
  return JSON.parse(raw.toString('utf8', sk.start[id], sk.end[id])) as string;
}

/** Step 2's one content read: an is_error tool_result's text decides its "Error: " prefix. */
export function hydrateErrors(body: Record<string, unknown>, raw: Buffer, sk: Skeleton): void {
  const msgs = body.messages;
  if (!Array.isArray(msgs)) return;
  const real = (s: unknown) => {
    const id = markerId(s);
    return id >= 0 && id < sk.start.length ? decode(raw, sk, id) : s;
  };
  for (const m of msgs) {
    const blocks = (m as { content?: unknown } | null)?.content;
    if (!Array.isArray(blocks)) continue;
    for (const b of blocks as Record<string, unknown>[]) {
      if (b === null || typeof b !== 'object' || b.type !== 'tool_result' || b.is_error !== true) continue;
      if (Array.isArray(b.content)) {
        for (const part of b.content as Record<string, unknown>[]) if (part !== null && typeof part === 'object') part.text = real(part.text);
      } else {
        b.content = real(b.content);
      }
    }
  }
}

/** Step 3: the translated skeleton's JSON with every marker replaced by its string; null if one cannot be. */
export function splice(out: Buffer, raw: Buffer, sk: Skeleton): Buffer | null {
  const pieces: Buffer[] = [];
  let from = 0;
  let at = out.indexOf(MARK_JSON);
  scanSteps.n += at < 0 ? out.length : at;
  while (at >= 0) {
    let slashes = 0;
    while (out[at - 1 - slashes] === Byte.BACKSLASH) slashes++;
    scanSteps.n += slashes;
    // One escaping level: `\u0000W` (an odd count: any pairs before it are escaped backslashes).
    // Two levels: `\\u0000W` (2 mod 4: the marker's two, after pairs of escaped-twice backslashes).
    const level = slashes % 2 === 1 ? 1 : slashes % 4 === 2 ? 2 : 0;
    if (level === 0) return null;
    const esc = level === 1 ? '\\' : '\\\\';
    const numStart = at + MARK_JSON.length;
    let numEnd = numStart;
    while (out[numEnd]! >= 0x30 && out[numEnd]! <= 0x39) numEnd++;
    const id = Number(out.toString('latin1', numStart, numEnd));
    const close = `${esc}u0000`;
    if (numEnd === numStart || id >= sk.start.length || out.toString('latin1', numEnd, numEnd + close.length) !== close) return null;
    pieces.push(out.subarray(from, at - level));
    if (level === 1) pieces.push(raw.subarray(sk.start[id]! + 1, sk.end[id]! - 1));
    else {
      const twice = Buffer.from(JSON.stringify(JSON.stringify(decode(raw, sk, id)).slice(1, -1)).slice(1, -1));
      scanSteps.n += 2 * twice.length;
      pieces.push(twice);
    }
    scanSteps.n += numEnd - at;
    from = numEnd + close.length;
    at = out.indexOf(MARK_JSON, from);
    scanSteps.n += (at < 0 ? out.length : at) - from;
  }
  pieces.push(out.subarray(from));
  const spliced = Buffer.concat(pieces);
  scanSteps.n += spliced.length;
  return spliced;
}

/**
 * The upstream chat body and context for `raw`, or null: then translate the ordinary way (and
 * check the nesting there). TOO_DEEP: the body nests deeper than `maxDepth`. `reshape` turns the
 * translated chat body into another upstream's before it is stringified (Gemini: chat →
 * generateContent); it gets the client's skeleton body too, and moves marker strings as the chat
 * translator does (copies, concatenations, a parse of the `arguments` they were stringified into).
 */
export function anthropicToOpenAIChatRaw(
  raw: Buffer,
  opts: AnthropicToOpenAIOptions,
  maxDepth = MAX_JSON_DEPTH,
  reshape?: (chat: Record<string, unknown>, client: Record<string, unknown>) => Record<string, unknown>,
): RawTranslation | null | typeof TOO_DEEP {
  if (raw.length < MIN_BODY) return null;
  scanSteps.n += 2 * raw.length; // the UTF-8 check and the control-byte check
  if (!isUtf8(raw) || hasControlByte(raw)) return null;
  const sk = skeleton(raw, maxDepth);
  if (sk === null || sk === TOO_DEEP) return sk;
  try {
    scanSteps.n += sk.text.length;
    const body = JSON.parse(sk.text) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
    hydrateErrors(body, raw, sk);
    const stringLength = (s: string): number => {
      const id = markerId(s);
      return id >= 0 && id < sk.units.length ? sk.units[id]! : s.length;
    };
    const r = anthropicToOpenAIChat(body, { ...opts, stringLength });
    if (r.ctx.stopSequences?.some((s) => s.startsWith(MARK))) return null;
    const json = Buffer.from(JSON.stringify(reshape ? reshape(r.body, body) : r.body));
    scanSteps.n += 2 * json.length;
    const out = splice(json, raw, sk);
    if (out === null) return null;
    return r.dropped === undefined ? { body: out, ctx: r.ctx, model: body.model } : { body: out, ctx: r.ctx, model: body.model, dropped: r.dropped };
  } catch {
    return null; // a translation error, or JSON the skeleton made invalid: the ordinary path tells which
  }
}
