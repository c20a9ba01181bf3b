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

import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { BEST_OF, MAX_TOKENS, MESSAGES, MODEL, N, ROUTING, STREAM, STREAM_OPTIONS, topLevelKey, USER } from './body-keys';
import { skippedDepth, skipSpace, skipString, skipValue } from './json-skip';
import { KnownScan, MIN_VALUE } from './known-values';
import { NOT_WALKED, walked, walkMessages, type MessagesLayout } from './messages-walk';


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
  /**
   * The top-level `messages` (spelled plainly, the last one) as its walk recorded it: each
   * message's span and role (messages-walk.ts); null when there is none, it is not recorded, or
   * the scan was not asked to record it.
   */
  messages: MessagesLayout | null;
}

/** Top-level keys that steer the gateway and are never forwarded (providers refuse unknown ones). */
export const ROUTING_PARAMS = ['fallbacks', 'disable_fallbacks'] as const;

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

/**
 * Whether the scan records the top-level `messages` (messages-walk.ts) for the translation cache:
 * yes or no, or asked when `messages` is reached, with the `model` read so far (Claude Code puts
 * it first). The record costs about 6 µs on a 50-turn Claude Code body, so the gateway asks for
 * it only when that model's calls are translated; without it the cache walks `messages` itself.
 */
export type RecordMessages = boolean | ((model: string | undefined) => boolean);

/**
 * `scope`, when given, names whose values the scan may find in this worker's known values
 * (known-values.ts): the caller's key. A body resending values seen before under that scope is
 * then compared rather than walked; the result is the same.
 */
export function scanBody(b: Buffer, messages: RecordMessages = false, scope?: string): BodyScan {
  const out: BodyScan = { modelStart: -1, modelEnd: -1, modelNotString: false, stream: false, depth: 0, streamOptionsStart: -1, streamOptionsEnd: -1, members: [], messages: null };
  scanSteps.n += b.length; // the walk, which crosses each byte once at most
  let i = skipSpace(b, 0);
  if (i >= b.length) return { ...out, error: 'Request body is empty; expected a JSON object.' };
  if (b[i] !== Byte.LBRACE) {
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
  const known = scope !== undefined && b.length >= MIN_VALUE ? new KnownScan(scope, b.length) : null;
  // Duplicate keys: the last one counts, as in JSON.parse.
  let n: number | undefined;
  let bestOf: number | undefined;
  i = skipSpace(b, i + 1);
  if (b[i] === Byte.RBRACE) return finish(b, i + 1, out);
  for (;;) {
    if (b[i] !== Byte.QUOTE) return { ...out, error: `Request body is not valid JSON (expected a key at byte ${i}).` };
    const keyStart = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return { ...out, error: 'Request body is not valid JSON (unterminated string).' };
    i = skipSpace(b, keyEnd);
    if (b[i] !== Byte.COLON) return { ...out, error: `Request body is not valid JSON (expected ':' at byte ${i}).` };
    i = skipSpace(b, i + 1);
    const valueStart = i;
    const key = topLevelKey(b, keyStart, keyEnd);
    let valueEnd: number;
    let valueDepth: number;
    if (key === MESSAGES && b[valueStart] === Byte.LBRACKET && (typeof messages === 'function' ? messages(out.model) : messages)) {
      valueEnd = known !== null ? known.walkMessages(b, valueStart) : walkMessages(b, valueStart);
      valueDepth = walked.depth;
      out.messages = walked.layout;
      if (valueEnd === NOT_WALKED) {
        // Not valid JSON inside: crossed again the liberal way, as any other value (bounded by the rest of the body).
        scanSteps.n += b.length - valueStart;
        valueEnd = skipValue(b, valueStart);
        valueDepth = skippedDepth();
        out.messages = null;
      }
    } else if (known !== null) {
      valueEnd = known.skip(b, valueStart);
      valueDepth = known.depth;
      if (key === MESSAGES) out.messages = null;
    } else {
      valueEnd = skipValue(b, valueStart);
      valueDepth = skippedDepth();
      if (key === MESSAGES) out.messages = null;
    }
    if (valueEnd < 0) return { ...out, error: `Request body is not valid JSON (bad value at byte ${valueStart}).` };
    if (valueDepth >= out.depth) out.depth = valueDepth + 1;
    out.members.push(keyStart, keyEnd, valueStart, valueEnd);
    switch (key) {
      case MODEL:
        if (b[valueStart] === Byte.QUOTE) {
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
        if (b[valueStart] === Byte.QUOTE) out.user = readString(b, valueStart, valueEnd);
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
    if (b[i] === Byte.COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] === Byte.RBRACE) {
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
    if (b[i] !== Byte.QUOTE) break;
    const start = i;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) break;
    const valueStart = skipSpace(b, skipSpace(b, keyEnd) + 1);
    const valueEnd = skipValue(b, valueStart);
    if (valueEnd < 0) break;
    scanSteps.n += 2 * (keyEnd - start);
    out.push({ key: JSON.parse(b.toString('utf8', start, keyEnd)) as string, start, valueStart, valueEnd });
    i = skipSpace(b, valueEnd);
    if (b[i] !== Byte.COMMA) break;
    i++;
  }
  return out;
}
