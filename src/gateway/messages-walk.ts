// The gateway's scan (body-scan.ts) crosses a body's `messages` anyway; this walk crosses it the
// same way and records, on the way, where each message is and its role. The translation cache
// (translation-layout.ts) needs exactly that, and walking the array a second time for it was the
// largest part of a cached translated call (issue 15). The record costs ~60 ns a message, so the
// scan makes it only when asked (a model whose calls are translated); otherwise the cache's layout
// runs this same walk itself.
//
// The walk stays as liberal as the scan's skipValue: anything it does not walk itself (a body that
// is not valid JSON inside `messages`) makes it give up, and the scan then crosses the array with
// skipValue as before, so what the gateway accepts and refuses does not change.
import { isSpace } from '../accounting/usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { hasEscape, skippedDepth, skipSpace, skipString, skipValue, stringIs } from './json-skip';

/** The codes of `MessagesLayout.roles`: OTHER for a message without one of the three roles. */
export const OTHER_ROLE = 0;
export const USER = 1;
export const ASSISTANT = 2;
export const SYSTEM = 3;

/** The code of the role value b[v, vEnd), told by its length first. */
function roleOf(b: Buffer, v: number, vEnd: number): number {
  switch (vEnd - v) {
    case 6:
      return stringIs(b, v, vEnd, 'user') ? USER : OTHER_ROLE;
    case 11:
      return stringIs(b, v, vEnd, 'assistant') ? ASSISTANT : OTHER_ROLE;
    case 8:
      return stringIs(b, v, vEnd, 'system') ? SYSTEM : OTHER_ROLE;
    default:
      return OTHER_ROLE;
  }
}

/** Where `messages` and its elements are in the body, and each element's role. */
export interface MessagesLayout {
  /** The array's span: `[` … `]`. */
  arrStart: number;
  arrEnd: number;
  starts: number[];
  ends: number[];
  roles: number[];
  /** Set when the scan looked for the array in the histories it keeps (known-values.ts). */
  history?: HistorySeen;
}

/**
 * What the known-values cache found of a `messages` array. A kept history is named by a version: a
 * number given to one content only, the bytes of one body's array, never to another; the
 * translation cache keeps what it made of a version's messages (translation-cache.ts).
 */
export interface HistorySeen {
  /** The version whose first `shared` messages this array repeats byte for byte, from its `[` on; -1: none. */
  before: number;
  shared: number;
  /** The version this array's bytes are kept under now; -1: not kept. */
  after: number;
}

/** Gives up: the scan crosses the array with skipValue instead. */
export const NOT_WALKED = -2;

/** What walkMessages found besides the array's end (module state, as skipValue's depth is). */
export const walked: { depth: number; layout: MessagesLayout | null } = { depth: 0, layout: null };

/** Set by element(): the object's role code, its depth, and whether every key is spelled without an escape. */
let elementRole = OTHER_ROLE;
let elementDepth = 0;
let elementPlain = true;

/** Index past the object at b[i] === '{', or NOT_WALKED. */
function element(b: Buffer, i: number): number {
  let role = OTHER_ROLE;
  let depth = 1;
  let plain = true;
  let j = i + 1;
  if (isSpace(b[j]!)) j = skipSpace(b, j);
  if (b[j] !== Byte.RBRACE) {
    for (;;) {
      if (b[j] !== Byte.QUOTE) return NOT_WALKED;
      const keyEnd = skipString(b, j);
      if (keyEnd < 0) return NOT_WALKED;
      // A message with a key written with an escape is not recorded. Each key byte is looked at once more here.
      scanSteps.n += keyEnd - j;
      if (hasEscape(b, j, keyEnd)) plain = false;
      let v = keyEnd;
      if (b[v] !== Byte.COLON) v = skipSpace(b, v);
      if (b[v] !== Byte.COLON) return NOT_WALKED;
      v++;
      if (isSpace(b[v]!)) v = skipSpace(b, v);
      // Most values here are strings (a role, a text): crossed without skipValue's setup.
      let vEnd: number;
      if (b[v] === Byte.QUOTE) vEnd = skipString(b, v);
      else {
        vEnd = skipValue(b, v);
        if (skippedDepth() + 1 > depth) depth = skippedDepth() + 1;
      }
      if (vEnd < 0) return NOT_WALKED;
      if (stringIs(b, j, keyEnd, 'role')) role = roleOf(b, v, vEnd); // the last `role` counts, as in JSON.parse
      j = vEnd;
      if (isSpace(b[j]!)) j = skipSpace(b, j);
      if (b[j] === Byte.COMMA) {
        j = skipSpace(b, j + 1);
        continue;
      }
      if (b[j] !== Byte.RBRACE) return NOT_WALKED;
      break;
    }
  }
  elementRole = role;
  elementDepth = depth;
  elementPlain = plain;
  return j + 1;
}

/**
 * Index past the array at b[i] === '[' (a top-level `messages`), or NOT_WALKED. Sets `walked`: the
 * array's depth as skipValue counts it, and its layout when every element is an object whose keys
 * are spelled plainly (else null). `depths`, when given, gets the depth reached up to each element.
 */
export function walkMessages(b: Buffer, i: number, depths: number[] | null = null): number {
  return walkMessagesFrom(b, { arrStart: i, arrEnd: 0, starts: [], ends: [], roles: [] }, 1, depths);
}

/**
 * walkMessages, from past the elements `layout` already holds (none: from the array's start),
 * which reached depth `deepest`: the known-values cache (known-values.ts) gives the elements a
 * body repeats from the one before, whose bytes this walk would have crossed to the same layout.
 */
export function walkMessagesFrom(b: Buffer, layout: MessagesLayout, deepest: number, depths: number[] | null): number {
  let plain = true;
  const known = layout.ends.length;
  let j: number;
  let more: boolean;
  if (known === 0) {
    j = skipSpace(b, layout.arrStart + 1);
    more = b[j] !== Byte.RBRACKET;
  } else {
    // Past the last element known: what the walk does after any element.
    j = skipSpace(b, layout.ends[known - 1]!);
    if (b[j] === Byte.COMMA) {
      j = skipSpace(b, j + 1);
      more = true;
    } else if (b[j] === Byte.RBRACKET) more = false;
    else return NOT_WALKED;
  }
  if (more) {
    for (;;) {
      let end: number;
      let depth: number;
      if (b[j] === Byte.LBRACE) {
        end = element(b, j);
        if (end < 0) return NOT_WALKED;
        depth = elementDepth;
        if (!elementPlain) plain = false;
        else if (plain) {
          layout.starts.push(j);
          layout.ends.push(end);
          layout.roles.push(elementRole);
        }
      } else {
        end = skipValue(b, j);
        if (end < 0) return NOT_WALKED;
        depth = skippedDepth();
        plain = false;
      }
      if (depth + 1 > deepest) deepest = depth + 1;
      depths?.push(deepest);
      j = skipSpace(b, end);
      if (b[j] === Byte.COMMA) {
        j = skipSpace(b, j + 1);
        continue;
      }
      if (b[j] !== Byte.RBRACKET) return NOT_WALKED;
      break;
    }
  }
  layout.arrEnd = j + 1;
  walked.depth = deepest;
  walked.layout = plain ? layout : null;
  return j + 1;
}
