// Reads what routing needs (`model`, `stream`) from a JSON request body without parsing it: the
// top level is walked key by key and every other value is skipped, strings by indexOf. A
// Claude-Code-sized body (≈150 KB, mostly string content) is crossed in microseconds and the
// bytes can be forwarded as they are, with only the model value spliced when it changes.
//
// The walk validates the structure (object at the top, strings terminated, brackets balanced,
// separators in place) so truncated or garbled bodies get a clear 400 here; the content of nested
// values is left to the upstream, which answers malformed fields in its own words.
//
// The same single walk reads the other top-level members the gateway needs (`user`, `max_tokens`,
// `n`, `best_of`, where `stream_options` is, the routing parameters; body-keys.ts tells them
// apart) and the deepest nesting. It is linear in the body whatever the body: every byte is
// crossed once, a key is looked at within its own bytes (never searched past), and each backslash
// is looked at once more, behind the quote it precedes (test/unit/linear-body-scan.test.ts).

import { BACKSLASH, COLON, COMMA, isSpace, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from '../accounting/usage-json';
import { scanSteps } from '../scan-steps';
import { BEST_OF, MAX_TOKENS, MODEL, N, ROUTING, STREAM, STREAM_OPTIONS, topLevelKey, USER } from './body-keys';

export interface BodyScan {
  /** Why the body is not acceptable, or undefined. */
  error?: string;
  /** The `model` value when it is a string. */
  model?: string;
  /** Byte span of the `model` value token, quotes included. */
  modelStart: number;
  modelEnd: number;
  /** Set when `model` exists but is not a string. */
  modelNotString: boolean;
  stream: boolean;
  /** Top-level `user` (the end user, as LiteLLM reads it), when a string. */
  user?: string;
  /** Top-level `max_tokens` / `max_completion_tokens`, when a number (budget reservations). */
  maxTokens?: number;
  /** Top-level `n` and `best_of`, when they are (finite) numbers (budget reservations). */
  n?: number;
  bestOf?: number;
  /** The deepest nesting in the body: 1 for an object of scalars, one more per array or object inside. */
  depth: number;
  /**
   * Byte span of the top-level `stream_options` value (its key spelled plainly), -1 when there is
   * none: the include_usage splice (accounting/usage-include) needs no search of its own.
   */
  streamOptionsStart: number;
  streamOptionsEnd: number;
  /**
   * Set when the body holds the gateway's own routing parameters (`fallbacks`,
   * `disable_fallbacks`): they are taken out before anything is sent upstream.
   */
  routingParams?: boolean;
  /**
   * Every top-level member's byte spans, flat: key start, key end, value start, value end, …
   * Recorded by the same walk, so a provider whose body keeps most members as they are (a wire's
   * splice, providers/wire.ts) needs no second walk of the body.
   */
  members: number[];
}

/** Top-level keys that steer the gateway and are never forwarded (providers refuse unknown ones). */
export const ROUTING_PARAMS = ['fallbacks', 'disable_fallbacks'] as const;

// Steps (src/scan-steps.ts): the walk only moves forward, so scanBody counts the body's length
// once for it, and the helpers below count only what is not part of it: the backslashes a string
// looks back over. Keeping the count out of their loops keeps the hot path as fast as before.

export function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/** Index just past the string starting at b[i] === '"', or -1 if it never ends. */
export function skipString(b: Buffer, i: number): number {
  let j = i;
  for (;;) {
    j = b.indexOf(QUOTE, j + 1);
    if (j < 0) return -1;
    if (b[j - 1] !== BACKSLASH) return j + 1;
    let k = j - 2;
    while (b[k] === BACKSLASH) k--;
    scanSteps.n += j - 1 - k;
    if ((j - k) % 2 === 1) return j + 1; // an even number of backslashes: the quote is real
  }
}

/** The nesting depth of the value skipValue last crossed (0 for a scalar): its second result. */
let valueDepth = 0;

/**
 * The closing brackets skipValue expects, innermost last, for values up to this deep; a deeper
 * value grows a copy of its own for that call. Shared by every call (a walk is synchronous and
 * never re-entered), so skipping a nested value allocates nothing.
 */
const CLOSERS = new Uint8Array(256);

/** Index just past the value starting at b[i], or -1 when it is malformed. Sets valueDepth. */
export function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) {
    valueDepth = 0;
    return skipString(b, i);
  }
  if (c === LBRACE || c === LBRACKET) {
    let closers = CLOSERS;
    closers[0] = c === LBRACE ? RBRACE : RBRACKET;
    let open = 1;
    let deepest = 1;
    let j = i + 1;
    while (j < b.length) {
      const d = b[j]!;
      if (d === QUOTE) {
        j = skipString(b, j);
        if (j < 0) return -1;
        continue;
      }
      if (d === LBRACE || d === LBRACKET) {
        if (open === closers.length) {
          const grown = new Uint8Array(closers.length * 2);
          grown.set(closers);
          closers = grown;
        }
        closers[open++] = d === LBRACE ? RBRACE : RBRACKET;
      } else if (d === RBRACE || d === RBRACKET) {
        // Every bracket of a value that ends well is closed: its depth is seen here.
        if (open > deepest) deepest = open;
        if (closers[--open] !== d) return -1;
        if (open === 0) {
          valueDepth = deepest;
          return j + 1;
        }
      }
      j++;
    }
    return -1;
  }
  // A number or a literal: runs to the next separator.
  valueDepth = 0;
  let j = i;
  while (j < b.length) {
    const d = b[j]!;
    if (d === COMMA || d === RBRACE || d === RBRACKET || isSpace(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

/** The number token b[start, end), when it is a finite JSON number. */
function finiteNumber(b: Buffer, start: number, end: number): number | undefined {
  scanSteps.n += 2 * (end - start);
  try {
    const v: unknown = JSON.parse(b.toString('latin1', start, end));
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function scanBody(b: Buffer): BodyScan {
  const out: BodyScan = { modelStart: -1, modelEnd: -1, modelNotString: false, stream: false, depth: 0, streamOptionsStart: -1, streamOptionsEnd: -1, members: [] };
  scanSteps.n += b.length; // the walk, which crosses each byte once at most
  let i = skipSpace(b, 0);
  if (i >= b.length) return { ...out, error: 'Request body is empty; expected a JSON object.' };
  if (b[i] !== LBRACE) {
    // Not an object: this is the error path, so parsing tells valid JSON from garbage exactly.
    let isJson = true;
    scanSteps.n += 2 * b.length;
    try {
      JSON.parse(b.toString('utf8'));
    } catch {
      isJson = false;
    }
    return { ...out, error: isJson ? 'Request body must be a JSON object.' : 'Request body is not valid JSON.' };
  }
  out.depth = 1;
  // Duplicate keys: the last one counts, as in JSON.parse.
  let n: number | undefined;
  let bestOf: number | undefined;
  i = skipSpace(b, i + 1);
  if (b[i] === RBRACE) return finish(b, i + 1, out);
  for (;;) {
    if (b[i] !== QUOTE) return { ...out, error: `Request body is not valid JSON (expected a key at byte ${i}).` };
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return { ...out, error: 'Request body is not valid JSON (unterminated string).' };
    i = skipSpace(b, keyEnd);
    if (b[i] !== COLON) return { ...out, error: `Request body is not valid JSON (expected ':' at byte ${i}).` };
    i = skipSpace(b, i + 1);
    const valueStart = i;
    const valueEnd = skipValue(b, i);
    if (valueEnd < 0) return { ...out, error: `Request body is not valid JSON (bad value at byte ${valueStart}).` };
    if (valueDepth >= out.depth) out.depth = valueDepth + 1;
    out.members.push(keyStart, keyEnd, valueStart, valueEnd);
    switch (topLevelKey(b, keyStart, keyEnd)) {
      case MODEL:
        if (b[valueStart] === QUOTE) {
          out.modelStart = valueStart;
          out.modelEnd = valueEnd;
          out.modelNotString = false;
          scanSteps.n += 2 * (valueEnd - valueStart);
          try {
            out.model = JSON.parse(b.toString('utf8', valueStart, valueEnd)) as string;
          } catch {
            return { ...out, error: 'Request body is not valid JSON (bad escape in "model").' };
          }
        } else {
          out.model = undefined;
          out.modelNotString = true;
        }
        break;
      case STREAM:
        out.stream = valueEnd - valueStart === 4 && b[valueStart] === 0x74; // "true"
        break;
      case USER:
        if (b[valueStart] === QUOTE) out.user = readString(b, valueStart, valueEnd);
        break;
      case MAX_TOKENS: {
        scanSteps.n += 2 * (valueEnd - valueStart);
        const v = Number(b.toString('latin1', valueStart, valueEnd));
        if (Number.isFinite(v) && v >= 0) out.maxTokens = v;
        break;
      }
      case ROUTING:
        out.routingParams = true;
        break;
      case N:
        n = finiteNumber(b, valueStart, valueEnd);
        break;
      case BEST_OF:
        bestOf = finiteNumber(b, valueStart, valueEnd);
        break;
      case STREAM_OPTIONS:
        out.streamOptionsStart = valueStart;
        out.streamOptionsEnd = valueEnd;
        break;
    }
    i = skipSpace(b, valueEnd);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] === RBRACE) {
      if (n !== undefined) out.n = n;
      if (bestOf !== undefined) out.bestOf = bestOf;
      return finish(b, i + 1, out);
    }
    return { ...out, error: `Request body is not valid JSON (expected ',' or '}' at byte ${i}).` };
  }
}

function readString(b: Buffer, start: number, end: number): string | undefined {
  scanSteps.n += 2 * (end - start);
  try {
    return JSON.parse(b.toString('utf8', start, end)) as string;
  } catch {
    return undefined;
  }
}

function finish(b: Buffer, i: number, out: BodyScan): BodyScan {
  if (skipSpace(b, i) !== b.length) return { ...out, error: 'Request body is not valid JSON (data after the object).' };
  return out;
}

/** The body with the `model` value replaced by `modelJson` (an already JSON-encoded string). */
export function replaceModel(b: Buffer, scan: BodyScan, modelJson: string): Buffer {
  const head = b.subarray(0, scan.modelStart);
  const tail = b.subarray(scan.modelEnd);
  const mid = Buffer.from(modelJson);
  return Buffer.concat([head, mid, tail], head.length + mid.length + tail.length);
}

/**
 * The top-level members whose keys are listed, parsed, and the body without them: an object
 * rebuilt from the other members' bytes, unchanged. Only for a body scanBody accepted.
 */
export function takeMembers(b: Buffer, keys: readonly string[]): { body: Buffer; taken: Record<string, unknown> } {
  const { kept, taken } = memberSplit(b, keys);
  scanSteps.n += b.length; // the copy of the members kept
  const parts: Buffer[] = [Buffer.from('{')];
  kept.forEach((m, n) => parts.push(n ? Buffer.from(',') : Buffer.alloc(0), m));
  parts.push(Buffer.from('}'));
  return { body: Buffer.concat(parts), taken };
}

/**
 * The top-level members of a body scanBody accepted, split: the bytes of each member not listed
 * (`"key": value`, in order, views into `b`) and the listed ones parsed. One walk; no copy.
 */
export function memberSplit(b: Buffer, keys: readonly string[]): { kept: Buffer[]; taken: Record<string, unknown> } {
  const kept: Buffer[] = [];
  const taken: Record<string, unknown> = {};
  for (const m of topLevelMembers(b)) {
    if (keys.includes(m.key)) {
      scanSteps.n += 2 * (m.valueEnd - m.valueStart);
      taken[m.key] = JSON.parse(b.toString('utf8', m.valueStart, m.valueEnd));
    } else kept.push(b.subarray(m.start, m.valueEnd));
  }
  return { kept, taken };
}

/** One top-level member of a body: its key, and the byte span of the member and of its value. */
export interface Member {
  key: string;
  start: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * The top-level members of a body scanBody accepted (or one an encoder wrote), in order, without
 * parsing their values: for a provider's body that keeps most members as they are (a wire's
 * splice, providers/wire.ts). From the scan's record when `scan` is this body's, else by a walk,
 * linear: each byte is crossed once.
 */
export function topLevelMembers(b: Buffer, scan?: BodyScan): Member[] {
  if (scan) {
    const m = scan.members;
    const out: Member[] = [];
    for (let i = 0; i < m.length; i += 4) {
      scanSteps.n += 2 * (m[i + 1]! - m[i]!);
      out.push({ key: JSON.parse(b.toString('utf8', m[i]!, m[i + 1]!)) as string, start: m[i]!, valueStart: m[i + 2]!, valueEnd: m[i + 3]! });
    }
    return out;
  }
  const out: Member[] = [];
  scanSteps.n += b.length;
  let i = skipSpace(b, 0) + 1;
  for (;;) {
    i = skipSpace(b, i);
    if (b[i] !== QUOTE) break;
    const start = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) break;
    const valueStart = skipSpace(b, skipSpace(b, keyEnd) + 1);
    const valueEnd = skipValue(b, valueStart);
    if (valueEnd < 0) break;
    scanSteps.n += 2 * (keyEnd - start);
    out.push({ key: JSON.parse(b.toString('utf8', start, keyEnd)) as string, start, valueStart, valueEnd });
    i = skipSpace(b, valueEnd);
    if (b[i] !== COMMA) break;
    i++;
  }
  return out;
}
