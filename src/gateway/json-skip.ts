// The byte-level steps of a walk over a JSON body: past spaces, a string, a whole value, and the
// look at a key's own bytes (its spelling, an escape in it). Shared by
// the gateway's scan (body-scan.ts), its walk of `messages` (messages-walk.ts) and the raw-body
// translation. They only move forward and validate what they cross (strings end, brackets pair).
import { isSpace } from '../accounting/usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { indexOfByte } from '../byte-index';

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
    j = indexOfByte(b, Byte.QUOTE, j + 1);
    if (j < 0) return -1;
    if (b[j - 1] !== Byte.BACKSLASH) return j + 1;
    let k = j - 2;
    while (b[k] === Byte.BACKSLASH) k--;
    scanSteps.n += j - 1 - k;
    if ((j - k) % 2 === 1) return j + 1; // an even number of backslashes: the quote is real
  }
}

/** The nesting depth of the value skipValue last crossed (0 for a scalar): its second result. */
let valueDepth = 0;

/** The nesting depth of the value skipValue last crossed: 0 for a scalar, 1 for `[]` or `{}` of scalars, … */
export function skippedDepth(): number {
  return valueDepth;
}

/**
 * The closing brackets skipValue expects, innermost last, for values up to this deep; a deeper
 * value grows a copy of its own for that call. Shared by every call (a walk is synchronous and
 * never re-entered), so skipping a nested value allocates nothing.
 */
const CLOSERS = new Uint8Array(256);

/** Index just past the value starting at b[i], or -1 when it is malformed. Sets valueDepth. */
export function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === Byte.QUOTE) {
    valueDepth = 0;
    return skipString(b, i);
  }
  if (c === Byte.LBRACE || c === Byte.LBRACKET) {
    let closers = CLOSERS;
    closers[0] = c === Byte.LBRACE ? Byte.RBRACE : Byte.RBRACKET;
    let open = 1;
    let deepest = 1;
    let j = i + 1;
    while (j < b.length) {
      const d = b[j]!;
      if (d === Byte.QUOTE) {
        j = skipString(b, j);
        if (j < 0) return -1;
        continue;
      }
      if (d === Byte.LBRACE || d === Byte.LBRACKET) {
        if (open === closers.length) {
          const grown = new Uint8Array(closers.length * 2);
          grown.set(closers);
          closers = grown;
        }
        closers[open++] = d === Byte.LBRACE ? Byte.RBRACE : Byte.RBRACKET;
      } else if (d === Byte.RBRACE || d === Byte.RBRACKET) {
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
    if (d === Byte.COMMA || d === Byte.RBRACE || d === Byte.RBRACKET || isSpace(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

/** Whether b[start, end) is the JSON string `"` + name + `"`, name plain ASCII; byte by byte (a call of Buffer.compare costs more than these few bytes). */
export function stringIs(b: Buffer, start: number, end: number, name: string): boolean {
  if (end - start !== name.length + 2) return false;
  for (let k = 0; k < name.length; k++) if (b[start + 1 + k] !== name.charCodeAt(k)) return false;
  return true;
}

/**
 * Whether the string token b[start, end) holds a backslash: a key written with an escape
 * (`"r\u006fle"`) means its plain spelling to JSON.parse but not to a byte compare.
 */
export function hasEscape(b: Buffer, start: number, end: number): boolean {
  for (let k = start + 1; k < end - 1; k++) if (b[k] === Byte.BACKSLASH) return true;
  return false;
}
