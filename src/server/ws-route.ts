// Where WebSockets are served, and their bounds, the same on both engines: the live terminal of an
// agent session (src/agents/terminal.ts, relayed by src/gateway/agent-attach.ts).

/** The route as uWebSockets.js patterns are written. */
export const WS_PATTERN = '/v1/agent/sessions/:id/attach';
const WS_PATH = /^\/v1\/agent\/sessions\/[^/]+\/attach$/;

/** Whether a request path is a WebSocket route (node:http: which upgrade requests the gateway sees). */
export function isWsPath(path: string): boolean {
  return WS_PATH.test(path);
}

/** A keystroke batch or a resize is small; a paste of a page is the most a client sends at once. */
export const WS_MAX_PAYLOAD = 64 * 1024;
/** Terminal output buffered for a slow client before what follows is dropped. */
export const WS_MAX_BACKPRESSURE = 1024 * 1024;

/**
 * Said on the upgrade's 101 answer by a Weir whose terminal takes control text frames (a comma list:
 * `resize`). `weir attach` sends resize frames only when it is there: an older Weir would type them
 * into the terminal as keystrokes. A header, not a first frame: an older `weir attach` would print a
 * frame it does not know, and ignores a header.
 */
export const TERMINAL_CONTROLS_HEADER = 'x-weir-terminal-controls';
export const TERMINAL_CONTROLS = 'resize';
