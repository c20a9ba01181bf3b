// OpenAI only reports usage on a stream when the request says `stream_options.include_usage:
// true`. The gateway needs it to charge the call, so it asks for it even when the client did not —
// and then hides the usage chunk from that client (OpenAIUsageScanner `hideUsageChunk`).
//
// The request body is changed by splicing bytes, never by re-serializing it: every byte outside
// the one edit stays as the client sent it. The top-level `stream_options` member is the one the
// body scan's walk of the top level recorded; without that span it is searched for from the END
// of the body (SDKs serialize it after `messages`) and proven to be a member of the outermost
// object. Either way a `stream_options` nested in messages, tools or metadata is never touched.
//
//   no stream_options                    → `,"stream_options":{"include_usage":true}` before the final `}`
//   {"include_usage": true}              → untouched (the client asked; its chunk is not hidden)
//   {"include_usage": false|null|…}      → that value becomes `true`
//   {…other keys…} without include_usage → `"include_usage":true,` after its `{`
//   null                                 → the value becomes `{"include_usage":true}`
//   anything else (a string, a number)   → untouched: the upstream answers the bad request itself
//
// Bodies that do not stream, or that the body scan refused, are returned untouched.
import { findTopLevelMemberFromEnd, isSpace, keyIs, skipSpace, walkObject } from './usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';

/**
 * What the request body scan (gateway/body-scan) found; a BodyScan fits. When the scan also
 * recorded the byte span of the top-level `stream_options` value (`streamOptionsStart`/`End`,
 * -1 when absent), the search below is skipped: the walk already visited every top-level key.
 */
export interface StreamFlag {
  error?: string | undefined;
  stream: boolean;
  streamOptionsStart?: number | undefined;
  streamOptionsEnd?: number | undefined;
}

/** Replace body[at, at + remove) with `insert`. */
export interface BodyEdit {
  at: number;
  remove: number;
  insert: string;
}

export interface IncludeUsageEdit {
  /** The edit to make, or null to send the body as it is. */
  edit: BodyEdit | null;
  /** The gateway added or enabled include_usage: hide the usage chunk from the client. */
  hideUsageChunk: boolean;
}

export interface IncludeUsagePlan {
  /** The body to send upstream (the input itself when nothing changed). */
  body: Buffer;
  hideUsageChunk: boolean;
}

const KEY = Buffer.from('"stream_options"');
const INCLUDE_TRUE = '"include_usage":true';
const NONE: IncludeUsageEdit = Object.freeze({ edit: null, hideUsageChunk: false });

function edit(at: number, remove: number, insert: string): IncludeUsageEdit {
  return { edit: { at, remove, insert }, hideUsageChunk: true };
}

/**
 * Decides the include_usage edit (see the table at the top of the file) without copying the body,
 * so a caller that also replaces `model` can apply both in one copy with applyEdits.
 */
export function includeUsageEdit(body: Buffer, scan: StreamFlag): IncludeUsageEdit {
  if (scan.error !== undefined || !scan.stream) return NONE;
  const end = body.length;
  const start = skipSpace(body, 0, end);
  scanSteps.n += start;
  if (start >= end || body[start] !== Byte.LBRACE) return NONE;
  let span: [number, number] | null;
  if (scan.streamOptionsStart !== undefined && scan.streamOptionsEnd !== undefined) {
    span = scan.streamOptionsStart >= 0 ? [scan.streamOptionsStart, scan.streamOptionsEnd] : null;
  } else {
    span = findTopLevelMemberFromEnd(body, start, end, KEY);
  }
  if (span === null) return addMember(body, start, end);
  const [vs, ve] = span;
  const c = body[vs];
  if (c === 0x6e && ve - vs === 4 /* null */) return edit(vs, 4, `{${INCLUDE_TRUE}}`);
  if (c !== Byte.LBRACE) return NONE;
  // The last include_usage member wins, as in JSON.parse.
  let valueStart = -1;
  let valueEnd = -1;
  walkObject(body, vs, ve, (ks, ke, s, e) => {
    scanSteps.n += ke - ks;
    if (keyIs(body, ks, ke, 'include_usage')) {
      valueStart = s;
      valueEnd = e;
    }
    return false;
  });
  if (valueStart >= 0) {
    if (valueEnd - valueStart === 4 && body.toString('latin1', valueStart, valueEnd) === 'true') return NONE;
    return edit(valueStart, valueEnd - valueStart, 'true');
  }
  const first = skipSpace(body, vs + 1, ve);
  scanSteps.n += first - vs;
  return edit(vs + 1, 0, body[first] === Byte.RBRACE ? INCLUDE_TRUE : `${INCLUDE_TRUE},`);
}

/** Appends the stream_options member before the outermost object's closing brace. */
function addMember(body: Buffer, start: number, end: number): IncludeUsageEdit {
  let close = end - 1;
  while (close > start && isSpace(body[close]!)) close--;
  if (body[close] !== Byte.RBRACE) return NONE;
  let prev = close - 1;
  while (prev > start && isSpace(body[prev]!)) prev--;
  scanSteps.n += end - prev;
  // Only an empty outermost object has its own `{` right before its `}`.
  const empty = prev === start && body[prev] === Byte.LBRACE;
  return edit(close, 0, `${empty ? '' : ','}"stream_options":{${INCLUDE_TRUE}}`);
}

/** The body with non-overlapping edits applied, in one copy (the body itself when there are none). */
export function applyEdits(body: Buffer, edits: ReadonlyArray<BodyEdit | null>): Buffer {
  const list = edits.filter((e): e is BodyEdit => e !== null).sort((a, b) => a.at - b.at);
  if (list.length === 0) return body;
  const pieces: Buffer[] = [];
  let pos = 0;
  let size = 0;
  for (const e of list) {
    if (e.at < pos) throw new RangeError('applyEdits: overlapping edits');
    const head = body.subarray(pos, e.at);
    const mid = Buffer.from(e.insert);
    pieces.push(head, mid);
    size += head.length + mid.length;
    pos = e.at + e.remove;
  }
  const tail = body.subarray(pos);
  pieces.push(tail);
  return Buffer.concat(pieces, size + tail.length);
}

/** Decides and applies the include_usage edit. */
export function planIncludeUsage(body: Buffer, scan: StreamFlag): IncludeUsagePlan {
  const e = includeUsageEdit(body, scan);
  return { body: applyEdits(body, [e.edit]), hideUsageChunk: e.hideUsageChunk };
}

/** The body with `stream_options.include_usage: true` ensured (see planIncludeUsage). */
export function ensureIncludeUsage(body: Buffer, scan: StreamFlag): Buffer {
  return planIncludeUsage(body, scan).body;
}
