// How deep a request body may nest where Weir parses it. The depth itself is read from the bytes by
// the top-level scan (body-scan.ts `depth`), in the walk every request makes anyway.
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
import { GatewayError } from './errors';

export const MAX_JSON_DEPTH = 256;

/** The 400 for a body past the bound, in words the client can act on (rendered in its dialect). */
export function tooDeepError(): GatewayError {
  return new GatewayError(
    400,
    `The request nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels; requests to this model may nest at most ${MAX_JSON_DEPTH}.`,
    'invalid_request_error',
  );
}
