// Reads what routing needs (`model`, `stream`) from a JSON request body without parsing it: the
// top level is walked key by key and every other value is skipped, strings by indexOf. A
// Claude-Code-sized body (≈150 KB, mostly string content) is crossed in microseconds and the
// bytes can be forwarded as they are, with only the model value spliced when it changes.
//
// The walk validates the structure (object at the top, strings terminated, brackets balanced,
// separators in place) so truncated or garbled bodies get a clear 400 here; the content of nested
// values is left to the upstream, which answers malformed fields in its own words.

import { BACKSLASH, COLON, COMMA, isSpace, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from '../accounting/usage-json';
import { scanSteps } from '../scan-steps';

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
  /**
   * Set when the body holds the gateway's own routing parameters (`fallbacks`,
   * `disable_fallbacks`): they are taken out before anything is sent upstream.
   */
  routingParams?: boolean;
}

/** Top-level keys that steer the gateway and are never forwarded (providers refuse unknown ones). */
export const ROUTING_PARAMS = ['fallbacks', 'disable_fallbacks'] as const;

function skipSpace(b: Buffer, i: number): number {
  const from = i;
  while (i < b.length && isSpace(b[i]!)) i++;
  scanSteps.n += i - from;
  return i;
}

/** Index just past the string starting at b[i] === '"', or -1 if it never ends. */
export function skipString(b: Buffer, i: number): number {
  let j = i;
  for (;;) {
    const from = j + 1;
    j = b.indexOf(QUOTE, from);
    if (j < 0) {
      scanSteps.n += b.length - from;
      return -1;
    }
    let k = j - 1;
    while (b[k] === BACKSLASH) k--;
    scanSteps.n += j + 1 - from + (j - 1 - k);
    if ((j - k) % 2 === 1) return j + 1; // an even number of backslashes: the quote is real
  }
}

/** Index just past the value starting at b[i], or -1 when it is malformed. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === LBRACE || c === LBRACKET) {
    const closers: number[] = [c === LBRACE ? RBRACE : RBRACKET];
    let j = i + 1;
    while (j < b.length) {
      const d = b[j]!;
      if (d === QUOTE) {
        j = skipString(b, j);
        if (j < 0) return -1;
        continue;
      }
      if (d === LBRACE) closers.push(RBRACE);
      else if (d === LBRACKET) closers.push(RBRACKET);
      else if (d === RBRACE || d === RBRACKET) {
        if (closers.pop() !== d) {
          scanSteps.n += j - i;
          return -1;
        }
        if (closers.length === 0) {
          scanSteps.n += j - i;
          return j + 1;
        }
      }
      j++;
    }
    scanSteps.n += j - i;
    return -1;
  }
  // A number or a literal: runs to the next separator.
  let j = i;
  while (j < b.length) {
    const d = b[j]!;
    if (d === COMMA || d === RBRACE || d === RBRACKET || isSpace(d)) break;
    j++;
  }
  scanSteps.n += j - i;
  return j > i ? j : -1;
}

function keyEquals(b: Buffer, start: number, end: number, key: string): boolean {
  // start/end span the key's quotes. Keys written with escapes are decoded by the caller first.
  if (end - start - 2 !== key.length) return false;
  scanSteps.n += key.length;
  for (let k = 0; k < key.length; k++) if (b[start + 1 + k] !== key.charCodeAt(k)) return false;
  return true;
}

/** A key spelled with escapes ("mod\u0065l") is the same key to JSON.parse and to the upstream. */
function escapedKeyIs(b: Buffer, start: number, end: number, key: string): boolean {
  scanSteps.n += 2 * (end - start);
  try {
    return JSON.parse(b.toString('utf8', start, end)) === key;
  } catch {
    return false;
  }
}

function keyIs(b: Buffer, start: number, end: number, escaped: boolean, key: string): boolean {
  return escaped ? escapedKeyIs(b, start, end, key) : keyEquals(b, start, end, key);
}

export function scanBody(b: Buffer): BodyScan {
  const out: BodyScan = { modelStart: -1, modelEnd: -1, modelNotString: false, stream: false };
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
    const slash = b.indexOf(BACKSLASH, keyStart);
    scanSteps.n += 2 * ((slash < 0 ? b.length : slash) - keyStart); // this search was made twice
    const escaped = slash < keyEnd && slash >= 0;
    if (keyIs(b, keyStart, keyEnd, escaped, 'model')) {
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
    } else if (keyIs(b, keyStart, keyEnd, escaped, 'stream')) {
      out.stream = valueEnd - valueStart === 4 && b[valueStart] === 0x74; // "true"
    } else if (keyIs(b, keyStart, keyEnd, escaped, 'user')) {
      if (b[valueStart] === QUOTE) out.user = readString(b, valueStart, valueEnd);
    } else if (keyIs(b, keyStart, keyEnd, escaped, 'max_tokens') || keyIs(b, keyStart, keyEnd, escaped, 'max_completion_tokens')) {
      scanSteps.n += 2 * (valueEnd - valueStart);
      const n = Number(b.toString('latin1', valueStart, valueEnd));
      if (Number.isFinite(n) && n >= 0) out.maxTokens = n;
    } else if (keyIs(b, keyStart, keyEnd, escaped, 'fallbacks') || keyIs(b, keyStart, keyEnd, escaped, 'disable_fallbacks')) {
      out.routingParams = true;
    }
    i = skipSpace(b, valueEnd);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] === RBRACE) return finish(b, i + 1, out);
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
  const kept: Buffer[] = [];
  const taken: Record<string, unknown> = {};
  let i = skipSpace(b, 0) + 1;
  for (;;) {
    i = skipSpace(b, i);
    if (b[i] !== QUOTE) break;
    const keyStart = i;
    const keyEnd = skipString(b, i);
    const valueStart = skipSpace(b, skipSpace(b, keyEnd) + 1);
    const valueEnd = skipValue(b, valueStart);
    scanSteps.n += 2 * (keyEnd - keyStart);
    const key = JSON.parse(b.toString('utf8', keyStart, keyEnd)) as string;
    if (keys.includes(key)) {
      scanSteps.n += 2 * (valueEnd - valueStart);
      taken[key] = JSON.parse(b.toString('utf8', valueStart, valueEnd));
    }
    else kept.push(b.subarray(keyStart, valueEnd));
    i = skipSpace(b, valueEnd);
    if (b[i] !== COMMA) break;
    i++;
  }
  const parts: Buffer[] = [Buffer.from('{')];
  kept.forEach((m, n) => parts.push(n ? Buffer.from(',') : Buffer.alloc(0), m));
  parts.push(Buffer.from('}'));
  scanSteps.n += b.length;
  return { body: Buffer.concat(parts), taken };
}
