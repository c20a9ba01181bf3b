// The live terminal of an agent session (`/v1/agent/sessions/{id}/attach`), on the worker: the
// upgrade request is authenticated like any agent call, the control thread says whether this caller
// may attach (the session's owner or an admin; 404 otherwise, as for an unknown session), and only
// then is it upgraded to a WebSocket whose frames are relayed both ways (base64 over the thread
// boundary: the terminal's bytes are not always whole UTF-8). Closing the socket detaches; the
// terminal keeps running on the control thread. Both engines serve it: uWebSockets.js on its
// WebSocket route, node:http from its 'upgrade' event (src/server/node-upgrade.ts).
// The terminal's output goes out in binary frames; a client's binary frames are keystrokes, and so
// are its text frames unless one is a control message (a resize: agents/terminal-size.ts), which
// goes to the control thread as such. A wrong control message is answered here, to its sender, by
// a text frame {"type":"error","error":{message,type,param,code}}; the viewer stays attached.
import { type Exchange, type WsPeer, JSON_TYPE } from '../server/exchange';
import type { AgentCall } from './agent-relay';
import { respondRelayed } from './agent-relay';
import type { ControlRpc, OpenStream } from './gateway-core';
import { TerminalSizeError, controlOf } from '../agents/terminal-size';

const ATTACH = /^\/v1\/agent\/sessions\/[^/]+\/attach\/?$/;

export function isAttachPath(path: string): boolean {
  return ATTACH.test(path);
}

const error = (message: string, type: string, code: number) => JSON.stringify({ error: { message, type, param: null, code: String(code) } });

export function relayAttach(ex: Exchange, call: AgentCall, rpc: ControlRpc, openStream: OpenStream): void {
  if (ex.method !== 'GET') return ex.respond(405, ['allow', 'GET', ...JSON_TYPE], error(`${ex.method} is not served on ${ex.path}: it is a WebSocket (GET with Upgrade: websocket)`, 'method_not_allowed', 405));
  if ((ex.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    return ex.respond(426, ['upgrade', 'websocket', ...JSON_TYPE], error(`${ex.path} is a WebSocket: connect with Upgrade: websocket (weir attach SESSION)`, 'upgrade_required', 426));
  }
  const upgrade = ex.upgradeWebSocket?.bind(ex);
  // Both engines upgrade a WebSocket handshake; one reaches here only without `Connection: Upgrade`.
  if (!upgrade) return ex.respond(426, ['upgrade', 'websocket', ...JSON_TYPE], error(`${ex.path} is a WebSocket: the handshake needs Connection: Upgrade with Upgrade: websocket`, 'upgrade_required', 426));
  rpc('agent', call).then(
    (r) => {
      if (r.status !== 200) return respondRelayed(ex, r);
      let stream: ReturnType<OpenStream> | null = null;
      let viewer: WsPeer | null = null;
      upgrade({
        open(peer) {
          viewer = peer;
          stream = openStream('agent.attach', call, {
            head: (status) => {
              if (status !== 200) peer.end(4000 + Math.min(status, 999), 'refused');
            },
            data: (chunk) => void peer.send(Buffer.from(chunk, 'base64'), true),
            end: () => peer.end(1000, 'the terminal ended'),
          });
        },
        message(data, binary) {
          if (!binary) {
            let control;
            try {
              control = controlOf(data);
            } catch (e) {
              if (!(e instanceof TerminalSizeError)) throw e;
              viewer?.send(JSON.stringify({ type: 'error', error: { message: e.message, type: 'invalid_request_error', param: e.param, code: '400' } }), false);
              return;
            }
            if (control) return void stream?.control?.(control);
          }
          stream?.input?.(data.toString('base64'));
        },
        close() {
          stream?.();
          stream = null;
        },
      });
    },
    (e: unknown) => respondRelayed(ex, { status: 500, body: { error: { message: `control thread: ${(e as Error).message}`, type: 'internal_server_error', param: null, code: '500' } } }),
  );
}
