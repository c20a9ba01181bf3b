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
