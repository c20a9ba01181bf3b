// Where a Claude Code body's conversation is, for the translation cache (translation-cache.ts):
// the `messages` array, each message's span and role, and where each unit of the conversation (an
// assistant turn with the user turn after it) starts. The gateway's scan recorded the top-level
// members (body-scan.ts) and, when asked, the messages (messages-walk.ts) as it crossed them; only
// when it was not asked are the messages walked here. Anything a byte compare cannot read as
// JSON.parse would (a key or role written with escapes, a second `messages`, a message without a
// known role) gives null, and the body is translated the uncached way.
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import type { BodyScan } from './body-scan';
import { hasEscape, stringIs } from './json-skip';
import { ASSISTANT, NOT_WALKED, OTHER_ROLE, SYSTEM, walked, walkMessages, type MessagesLayout } from './messages-walk';

/** Where `messages` and its elements are in the body, and each element's role. */
export type Layout = MessagesLayout;

/**
 * The body's layout, from what the gateway's scan of `raw` recorded: its top-level members (key
 * start, key end, value start, value end, …) and its `messages` when it recorded them. Null when
 * the body is not one this handles.
 */
export function layout(raw: Buffer, scan: Pick<BodyScan, 'members' | 'messages'>): Layout | null {
  const members = scan.members;
  let messages = -1;
  for (let m = 0; m < members.length; m += 4) {
    const keyStart = members[m]!;
    const keyEnd = members[m + 1]!;
    scanSteps.n += keyEnd - keyStart;
    if (hasEscape(raw, keyStart, keyEnd)) return null; // its plain spelling to JSON.parse, not to a byte compare
    if (stringIs(raw, keyStart, keyEnd, 'messages')) {
      if (messages >= 0) return null; // a second `messages`: JSON.parse keeps the last
      messages = m;
    }
  }
  if (messages < 0) return null;
  const v = members[messages + 2]!;
  let found = scan.messages;
  if (found === null || found.arrStart !== v) {
    // The scan was not asked to record them: walked here, each byte crossed once more.
    if (raw[v] !== Byte.LBRACKET) return null;
    scanSteps.n += members[messages + 3]! - v;
    if (walkMessages(raw, v) === NOT_WALKED) return null;
    found = walked.layout;
    if (found === null) return null;
  }
  if (found.roles.length === 0) return null;
  scanSteps.n += found.roles.length;
  return found.roles.includes(OTHER_ROLE) ? null : found;
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
