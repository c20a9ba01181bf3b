// How deep a request body nests, read from its bytes before anything parses it.
//
// Why: V8's JSON.parse reads any depth, but JSON.stringify and every recursive walk over the parsed
// value (the translators, the token estimate) recurse once per level, so a body nested 100,000
// levels (≈200 KB, under the body limit) overflows the stack in the middle of a translation: a 500,
// or, once the call is already sent, a 502 after the upstream was paid. Translated calls and the
// local count_tokens estimate are bounded here instead, before any of that starts.
//
// The bound: real agent requests nest 10 to 16 levels (Claude Code 2.1 and Codex 0.171 bodies,
// tool schemas included) and MCP tool schemas with nested definitions a few dozen. 256 leaves
// them an order of magnitude of room, and stays far below the ~4,000 levels where JSON.stringify
// runs out of stack in a worker thread.
import { LBRACE, LBRACKET, QUOTE, RBRACE, RBRACKET } from '../accounting/usage-json';
import { skipString } from './body-scan';
import { GatewayError } from './errors';

export const MAX_JSON_DEPTH = 256;

/** Byte classes: 1 a quote, 2 an opening bracket, 3 a closing one, 0 the rest (one load per byte). */
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = 1;
CLASS[LBRACE] = 2;
CLASS[LBRACKET] = 2;
CLASS[RBRACE] = 3;
CLASS[RBRACKET] = 3;

/**
 * True when arrays and objects in `raw` nest deeper than `limit` (the body's own object is level
 * 1). Linear: strings are skipped with indexOf, and the walk stops at the first level past the
 * limit. Malformed JSON is not judged here: the parser that follows reports it.
 */
export function nestsDeeperThan(raw: Buffer, limit: number): boolean {
  let depth = 0;
  let i = 0;
  const n = raw.length;
  while (i < n) {
    const k = CLASS[raw[i]!]!;
    if (k === 0) {
      i++;
      continue;
    }
    if (k === 1) {
      i = skipString(raw, i);
      if (i < 0) return false;
      continue;
    }
    if (k === 2) {
      if (++depth > limit) return true;
    } else depth--;
    i++;
  }
  return false;
}

/** The 400 for a body past the bound, in words the client can act on (rendered in its dialect). */
export function tooDeepError(): GatewayError {
  return new GatewayError(
    400,
    `The request nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels; requests to this model may nest at most ${MAX_JSON_DEPTH}.`,
    'invalid_request_error',
  );
}
