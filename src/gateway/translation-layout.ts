// Where a Claude Code body's conversation is, read off its raw bytes for the translation cache
// (translation-cache.ts): the `messages` array, each message's span and role, and where each unit
// of the conversation (an assistant turn with the user turn after it) starts. Only `messages` is
// walked: the other top-level members come as the spans the gateway's scan recorded (body-scan.ts).
// Anything a byte compare cannot read as JSON.parse would (a key or role written with escapes, a
// second `messages`) gives null, and the body is translated the uncached way.
import { BACKSLASH, COLON, COMMA, LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from '../accounting/usage-json';
import { scanSteps } from '../scan-steps';
import { skipSpace, skipString, skipValue } from './body-scan';

/** The codes of `Layout.roles`. */
const USER = 1;
const ASSISTANT = 2;
const SYSTEM = 3;
const ROLE_KEY = Buffer.from('"role"');
const MESSAGES_KEY = Buffer.from('"messages"');
const ROLES: [Buffer, number][] = [
  [Buffer.from('"user"'), USER],
  [Buffer.from('"assistant"'), ASSISTANT],
  [Buffer.from('"system"'), SYSTEM],
];

/** Where `messages` and its elements are in the body, and each element's role. */
export interface Layout {
  /** The array's span: `[` … `]`. */
  arrStart: number;
  arrEnd: number;
  starts: number[];
  ends: number[];
  roles: number[];
}

/**
 * A key written with an escape (`"r\u006fle"`) means what its plain spelling means to JSON.parse,
 * but not to the byte compares here: such a body is left to the uncached path. Keys are short.
 */
function escapedKey(raw: Buffer, start: number, end: number): boolean {
  for (let k = start + 1; k < end - 1; k++) if (raw[k] === BACKSLASH) return true;
  return false;
}

function bytesAre(raw: Buffer, start: number, end: number, want: Buffer): boolean {
  return end - start === want.length && raw.compare(want, 0, want.length, start, end) === 0;
}

/** The element raw[i] === '{' … '}': its end and the code of its (last) `role`; null when not one this handles. */
function element(raw: Buffer, i: number): [end: number, role: number] | null {
  if (raw[i] !== LBRACE) return null;
  let role = 0;
  let j = skipSpace(raw, i + 1);
  if (raw[j] === RBRACE) return null;
  for (;;) {
    if (raw[j] !== QUOTE) return null;
    const keyEnd = skipString(raw, j);
    if (keyEnd < 0 || escapedKey(raw, j, keyEnd)) return null;
    const colon = skipSpace(raw, keyEnd);
    if (raw[colon] !== COLON) return null;
    const v = skipSpace(raw, colon + 1);
    const vEnd = skipValue(raw, v);
    if (vEnd < 0) return null;
    if (bytesAre(raw, j, keyEnd, ROLE_KEY)) {
      role = 0;
      for (const [bytes, code] of ROLES) if (bytesAre(raw, v, vEnd, bytes)) role = code;
    }
    j = skipSpace(raw, vEnd);
    if (raw[j] === COMMA) {
      j = skipSpace(raw, j + 1);
      continue;
    }
    if (raw[j] !== RBRACE) return null;
    return role === 0 ? null : [j + 1, role];
  }
}

/**
 * The body's layout, from its top-level members as the gateway's scan recorded them (body-scan.ts:
 * key start, key end, value start, value end, …): only `messages` is walked. `tools` and `system`
 * are most of a Claude Code body's structure (67 and 14 of 152 KB in the bench's), and the scan
 * has crossed them once already. Null when the body is not one this handles.
 */
export function layout(raw: Buffer, members: readonly number[]): Layout | null {
  let messages = -1;
  for (let m = 0; m < members.length; m += 4) {
    const keyStart = members[m]!;
    const keyEnd = members[m + 1]!;
    scanSteps.n += keyEnd - keyStart;
    if (escapedKey(raw, keyStart, keyEnd)) return null;
    if (bytesAre(raw, keyStart, keyEnd, MESSAGES_KEY)) {
      if (messages >= 0) return null; // a second `messages`: JSON.parse keeps the last
      messages = m;
    }
  }
  if (messages < 0) return null;
  const v = members[messages + 2]!;
  if (raw[v] !== LBRACKET) return null;
  scanSteps.n += members[messages + 3]! - v; // the array's walk, each byte crossed once
  const found: Layout = { arrStart: v, arrEnd: 0, starts: [], ends: [], roles: [] };
  let j = skipSpace(raw, v + 1);
  if (raw[j] !== RBRACKET) {
    for (;;) {
      const el = element(raw, j);
      if (el === null) return null;
      found.starts.push(j);
      found.ends.push(el[0]);
      found.roles.push(el[1]);
      j = skipSpace(raw, el[0]);
      if (raw[j] === COMMA) {
        j = skipSpace(raw, j + 1);
        continue;
      }
      if (raw[j] !== RBRACKET) return null;
      break;
    }
  }
  found.arrEnd = j + 1;
  return found.roles.length > 0 ? found : null;
}

/**
 * Where each unit starts: 0, and every message that starts an assistant turn (consecutive
 * messages of one role are one turn, system messages joining the turn before them).
 */
export function unitStarts(roles: number[]): number[] {
  const starts = [0];
  let i = 0;
  while (i < roles.length && roles[i] === SYSTEM) i++;
  if (i >= roles.length) return starts;
  let role = roles[i]!;
  if (role === ASSISTANT && i > 0) starts.push(i);
  for (let k = i + 1; k < roles.length; k++) {
    const r = roles[k]!;
    if (r === SYSTEM || r === role) continue;
    role = r;
    if (r === ASSISTANT) starts.push(k);
  }
  return starts;
}
