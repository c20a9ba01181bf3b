// Byte-level JSON helpers for the usage scanners: skip values and walk the keys of one object in a
// window [start, end) of a Buffer without materializing anything, so the hot path only pays for
// the few bytes it actually needs (an `id`, a `usage` object) and never JSON.parses a whole body.
//
// Every function returns -1 when the window ends before the value does (an event split across
// chunks) or the bytes are not JSON; callers treat both as "not here".
//
// Steps (src/scan-steps.ts): each exported walk counts the distance it moved when it stops; the
// helpers that only move a walk forward (skipSpace, skipString, skipValue) count nothing of their
// own but what is not part of that distance: the backslashes a string looks back over, and a
// search for a closing quote that ran past the window. Comparing a key with a few names counts
// its bytes once per name.

import { scanSteps } from '../scan-steps';
import { indexOfByte } from '../byte-index';
import { Byte } from '../json-bytes';


export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function skipSpace(b: Buffer, i: number, end: number): number {
  while (i < end && isSpace(b[i]!)) i++;
  return i;
}

/** Index just past the string whose opening quote is at b[i], or -1. */
export function skipString(b: Buffer, i: number, end: number): number {
  let j = i;
  for (;;) {
    j = indexOfByte(b, Byte.QUOTE, j + 1);
    if (j < 0 || j >= end) {
      scanSteps.n += (j < 0 ? b.length : j) - end; // the search ran past the window
      return -1;
    }
    if (b[j - 1] !== Byte.BACKSLASH) return j + 1;
    let k = j - 2;
    while (b[k] === Byte.BACKSLASH) k--;
    scanSteps.n += j - 1 - k;
    if ((j - k) % 2 === 1) return j + 1; // preceded by an even number of backslashes: real quote
  }
}

/** Index just past the value starting at b[i] (no leading space), or -1. */
export function skipValue(b: Buffer, i: number, end: number): number {
  if (i >= end) return -1;
  const c = b[i];
  if (c === Byte.QUOTE) return skipString(b, i, end);
  if (c === Byte.LBRACE || c === Byte.LBRACKET) {
    let depth = 1;
    let j = i + 1;
    while (j < end) {
      const d = b[j]!;
      if (d === Byte.QUOTE) {
        j = skipString(b, j, end);
        if (j < 0) return -1;
        continue;
      }
      if (d === Byte.LBRACE || d === Byte.LBRACKET) depth++;
      else if (d === Byte.RBRACE || d === Byte.RBRACKET) {
        if (--depth === 0) return j + 1;
      }
      j++;
    }
    return -1;
  }
  let j = i;
  while (j < end) {
    const d = b[j]!;
    if (d === Byte.COMMA || d === Byte.RBRACE || d === Byte.RBRACKET || isSpace(d)) break;
    j++;
  }
  // A scalar that runs into the end of the window may be cut (`12` of `123`).
  return j > i && j < end ? j : -1;
}

/**
 * Does the key token b[start, end) (quotes included) spell `key`? Escaped keys are decoded.
 * Looks at the token's bytes once (counted by the caller), and decodes it (counted here) only
 * when an escape could make it spell the key.
 */
export function keyIs(b: Buffer, start: number, end: number, key: string): boolean {
  const n = end - start - 2;
  if (n === key.length) {
    let k = 0;
    while (k < n && b[start + 1 + k] === key.charCodeAt(k)) k++;
    if (k === n) return true;
  }
  // Only a longer token with an escape in it can still spell the key (`"\u0075sage"`), and at
  // most six bytes (`\uXXXX`) per character of it: a long hostile key is not looked through.
  if (n <= key.length || n > 6 * key.length) return false;
  for (let k = start + 1; k < end - 1; k++) if (b[k] === Byte.BACKSLASH) return decodeString(b, start, end) === key;
  return false;
}

/** The JSON string token b[start, end) decoded, or undefined. */
export function decodeString(b: Buffer, start: number, end: number): string | undefined {
  const raw = b.toString('utf8', start + 1, end - 1);
  if (raw.indexOf('\\') < 0) {
    scanSteps.n += 2 * (end - start);
    return raw;
  }
  scanSteps.n += 4 * (end - start);
  try {
    return JSON.parse(b.toString('utf8', start, end)) as string;
  } catch {
    return undefined;
  }
}

/** JSON.parse of b[start, end), or undefined. */
export function parseSpan(b: Buffer, start: number, end: number): unknown {
  scanSteps.n += 2 * (end - start);
  try {
    return JSON.parse(b.toString('utf8', start, end));
  } catch {
    return undefined;
  }
}

/**
 * Walks the keys of the object starting at b[i] === '{'. For each key calls visit(keyStart,
 * keyEnd, valueStart, valueEnd); visit returns true to stop early. Returns the index just past the
 * object, -2 if stopped early, or -1 when the window ends or the bytes are malformed.
 */
export function walkObject(
  b: Buffer,
  i: number,
  end: number,
  visit: (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => boolean,
): number {
  const from = i;
  let result = -1;
  let at = end; // where the walk stopped: the window's end when a string or a value ran out of it
  walk: {
    if (b[i] !== Byte.LBRACE) {
      at = i;
      break walk;
    }
    i = skipSpace(b, i + 1, end);
    if (i < end && b[i] === Byte.RBRACE) {
      result = at = i + 1;
      break walk;
    }
    for (;;) {
      if (i >= end || b[i] !== Byte.QUOTE) {
        at = i;
        break walk;
      }
      const ks = i;
      const ke = skipString(b, i, end);
      if (ke < 0) break walk;
      i = skipSpace(b, ke, end);
      if (i >= end || b[i] !== Byte.COLON) {
        at = i;
        break walk;
      }
      const vs = skipSpace(b, i + 1, end);
      const ve = skipValue(b, vs, end);
      if (ve < 0) break walk;
      if (visit(ks, ke, vs, ve)) {
        result = -2;
        at = ve;
        break walk;
      }
      i = skipSpace(b, ve, end);
      if (i >= end) break walk;
      if (b[i] === Byte.COMMA) {
        i = skipSpace(b, i + 1, end);
        continue;
      }
      at = i;
      if (b[i] === Byte.RBRACE) result = at = i + 1;
      break walk;
    }
  }
  scanSteps.n += Math.min(at, end) - from;
  return result;
}

/**
 * From just past a value inside an object, checks that the rest of the window is the remaining
 * members of that object, its closing brace, and nothing but whitespace: i.e. that the value was a
 * member of the OUTERMOST object (anything deeper would need more closers after its brace).
 * Returns `end` when it is, else ~i, i being how far the walk got (what the check cost).
 */
function restClosesTopLevel(b: Buffer, i: number, end: number): number {
  for (;;) {
    i = skipSpace(b, i, end);
    if (i >= end) return ~end;
    if (b[i] === Byte.RBRACE) {
      const j = skipSpace(b, i + 1, end);
      return j === end ? end : ~j;
    }
    if (b[i] !== Byte.COMMA) return ~i;
    i = skipSpace(b, i + 1, end);
    if (i >= end || b[i] !== Byte.QUOTE) return ~i;
    i = skipString(b, i, end);
    if (i < 0) return ~end;
    i = skipSpace(b, i, end);
    if (i >= end || b[i] !== Byte.COLON) return ~i;
    i = skipValue(b, skipSpace(b, i + 1, end), end);
    if (i < 0) return ~end;
  }
}

/**
 * Finds the member `"key": <value>` of the top-level object in b[start, end) by searching for the
 * key's bytes from the END backwards (where providers put `usage`), and proves each candidate is a
 * top-level member with restClosesTopLevel. Returns [valueStart, valueEnd] or null. Only keys
 * spelled without escapes are found; callers fall back to JSON.parse when this returns null.
 *
 * Proving a candidate that is not a top-level member walks forward from it until the proof fails:
 * past the rest of the object it is nested in, or past its own value. A hostile body can hold
 * many such candidates (the key nested at every depth, or repeated in one nested object), so once
 * the failed proofs have walked as far as the window is long, the search stops and the object is
 * walked forward once instead (lastTopLevelMember). Both find the same member in every
 * well-formed object; in a malformed one the forward walk finds none, as JSON.parse, the callers'
 * fallback, finds none.
 */
export function findTopLevelMemberFromEnd(b: Buffer, start: number, end: number, keyToken: Buffer): [number, number] | null {
  const budget = end - start;
  let spent = 0;
  let from = end - keyToken.length;
  while (from >= start) {
    const p = b.lastIndexOf(keyToken, from);
    scanSteps.n += from - (p < 0 ? -1 : p) + keyToken.length;
    if (p < start) return null;
    from = p - 1;
    if (p > start && b[p - 1] === Byte.BACKSLASH) continue; // `\"key"` is the tail of some string
    let i = skipSpace(b, p + keyToken.length, end);
    if (i >= end || b[i] !== Byte.COLON) {
      scanSteps.n += i - p;
      continue;
    }
    i = skipSpace(b, i + 1, end);
    const ve = skipValue(b, i, end);
    const proof = ve < 0 ? ~end : restClosesTopLevel(b, ve, end);
    if (proof >= 0) {
      scanSteps.n += end - p;
      return [i, ve];
    }
    scanSteps.n += ~proof - p;
    spent += ~proof - p;
    if (spent > budget) return lastTopLevelMember(b, start, end, keyToken);
  }
  return null;
}

/**
 * The last member of the object at b[start] whose key is spelled exactly `keyToken`, when the
 * window holds that object and whitespace only; else null.
 */
function lastTopLevelMember(b: Buffer, start: number, end: number, keyToken: Buffer): [number, number] | null {
  let found: [number, number] | null = null;
  const past = walkObject(b, start, end, (ks, ke, vs, ve) => {
    if (ke - ks === keyToken.length) {
      scanSteps.n += keyToken.length;
      if (b.compare(keyToken, 0, keyToken.length, ks, ke) === 0) found = [vs, ve];
    }
    return false;
  });
  if (past < 0) return null;
  const rest = skipSpace(b, past, end);
  scanSteps.n += rest - past;
  return rest === end ? found : null;
}

/** Reads top-level string members named in `keys` from the object at b[i] (stops when all found). */
export function readTopLevelStrings(b: Buffer, i: number, end: number, keys: readonly string[], out: Record<string, string>): number {
  let missing = keys.length;
  let keyBytes = 0; // compared with each of the keys
  const r = walkObject(b, i, end, (ks, ke, vs, ve) => {
    if (b[vs] !== Byte.QUOTE) return false;
    keyBytes += ke - ks;
    for (const k of keys) {
      if (out[k] === undefined && keyIs(b, ks, ke, k)) {
        const v = decodeString(b, vs, ve);
        if (v !== undefined) {
          out[k] = v;
          missing--;
        }
        break;
      }
    }
    return missing === 0;
  });
  scanSteps.n += keyBytes * keys.length;
  return r;
}

/**
 * Sum of the byte lengths of string values inside the value at b[i], skipping the values of keys
 * in `skipKeys` (e.g. `type`). Used to estimate generated tokens of a streamed delta. Escapes count
 * as their bytes; that is noise an estimate can afford.
 */
export function stringValueBytes(b: Buffer, i: number, end: number, skipKeys: readonly string[]): number {
  // Fast path for the shapes streams use: `{"content":"…"` (OpenAI) and
  // `{"type":"text_delta","text":"…"` (Anthropic): one key (after an optional type tag) whose
  // string value runs to the object's end.
  let j0 = i + 1;
  let seen = j0; // how far the fast path looked
  if (b[j0] === Byte.QUOTE && b[j0 + 1] === 0x74 && b[j0 + 2] === 0x79 && b[j0 + 3] === 0x70 && b[j0 + 4] === 0x65 && b[j0 + 5] === Byte.QUOTE && b[j0 + 6] === Byte.COLON && b[j0 + 7] === Byte.QUOTE) {
    const te = skipString(b, j0 + 7, end); // `"type":"…"`
    seen = te < 0 ? end : te;
    if (te > 0 && b[te] === Byte.COMMA) j0 = te + 1;
  }
  if (b[j0] === Byte.QUOTE) {
    const ke = skipString(b, j0, end);
    seen = ke < 0 ? end : ke;
    if (ke > 0 && b[ke] === Byte.COLON && b[ke + 1] === Byte.QUOTE) {
      const ve = skipString(b, ke + 1, end);
      seen = ve < 0 ? end : ve;
      if (ve > 0 && b[ve] === Byte.RBRACE) {
        scanSteps.n += ve - i + (ke - j0) * skipKeys.length;
        for (const k of skipKeys) if (keyIs(b, j0, ke, k)) return 0;
        return ve - ke - 3;
      }
    }
  }
  scanSteps.n += seen - i;
  let total = 0;
  let j = i;
  let keyBytes = 0; // compared with each of skipKeys
  // One bit per open container: 1 = object. Deltas nest a few levels at most.
  let stack = 0;
  let depth = 0;
  let expectKey = false;
  let skipNext = false;
  while (j < end) {
    const c = b[j]!;
    if (c === Byte.QUOTE) {
      const e = skipString(b, j, end);
      if (e < 0) {
        j = end;
        break;
      }
      if (expectKey) {
        const after = skipSpace(b, e, end);
        skipNext = false;
        keyBytes += e - j;
        for (const k of skipKeys) {
          if (keyIs(b, j, e, k)) {
            skipNext = true;
            break;
          }
        }
        j = after + 1; // past the colon
        expectKey = false;
        continue;
      }
      if (!skipNext) total += e - j - 2;
      skipNext = false;
      j = e;
      continue;
    }
    if (c === Byte.LBRACE || c === Byte.LBRACKET) {
      if (depth < 30) stack = c === Byte.LBRACE ? stack | (1 << depth) : stack & ~(1 << depth);
      depth++;
      expectKey = c === Byte.LBRACE;
      skipNext = false;
    } else if (c === Byte.COMMA) {
      expectKey = depth > 0 && depth <= 30 && (stack & (1 << (depth - 1))) !== 0;
      skipNext = false;
    } else if (c === Byte.RBRACE || c === Byte.RBRACKET) {
      if (--depth <= 0) break;
      skipNext = false;
    }
    j++;
  }
  scanSteps.n += Math.min(j, end) - i + keyBytes * skipKeys.length;
  return total;
}
