// The node:http engine's WebSocket route: node:http hands an upgrade request to the server's
// 'upgrade' event with its raw socket, not to the request handler. On a WebSocket route it is made
// an Exchange on that socket and goes through the gateway like any request (auth, routing; the
// gateway upgrades it once it knows the caller may attach, as on uWebSockets.js): an answer instead
// is written on the socket as a whole HTTP/1.1 response, and the connection closed. The WebSocket
// itself is the `ws` package's, with the uWebSockets.js engine's bounds (ws-route.ts). An upgrade
// request anywhere else (`curl --http2` asks for h2c on every call) is served as the HTTP/1.1
// request it also is, as uWebSockets.js serves it: its head is written again without the upgrade
// and the socket given back to the server as a new connection (see serveAsHttp).
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { WebSocketServer } from 'ws';
import type { Exchange, HeaderList, WsHandlers } from './exchange';
import { requestTarget } from './request-target';
import { statusLine } from './status-line';
import { TERMINAL_CONTROLS, TERMINAL_CONTROLS_HEADER, WS_MAX_BACKPRESSURE, WS_MAX_PAYLOAD } from './ws-route';

const EMPTY = Buffer.alloc(0);

/** One per engine: it only performs handshakes (noServer), the sockets are the server's. */
export function makeWsServer(): WebSocketServer {
  // Loaded here: the uWS engine, the default, never needs the ws package.
  const { WebSocketServer } = require('ws') as typeof import('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false });
  // The terminal's control frames it takes, said on the 101 (ws-route.ts).
  wss.on('headers', (headers) => headers.push(`${TERMINAL_CONTROLS_HEADER}: ${TERMINAL_CONTROLS}`));
  return wss;
}

/** Connection tokens that belong to an upgrade negotiation, dropped with it. */
const UPGRADE_TOKENS = new Set(['upgrade', 'http2-settings']);

/**
 * The request's head without its upgrade (the Upgrade and HTTP2-Settings headers, their Connection
 * tokens), followed by what of the body was read with it: what the server parses once given the
 * socket again.
 */
export function withoutUpgrade(req: http.IncomingMessage, head: Buffer): Buffer {
  let out = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (UPGRADE_TOKENS.has(name)) continue;
    let value = raw[i + 1]!;
    if (name === 'connection') {
      value = value.split(',').map((t) => t.trim()).filter((t) => t && !UPGRADE_TOKENS.has(t.toLowerCase())).join(', ');
      if (!value) continue;
    }
    out += `${raw[i]}: ${value}\r\n`;
  }
  return Buffer.concat([Buffer.from(`${out}\r\n`, 'latin1'), head]);
}

export class NodeUpgradeExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly startedAt = performance.now();
  aborted = false;
  private finished = false;
  private abortCb: (() => void) | undefined;
  readonly upgradeWebSocket?: (h: WsHandlers) => void;
  private readonly remote: string;

  constructor(
    req: http.IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    wss: WebSocketServer,
    private readonly finishedCb: () => void,
  ) {
    this.method = req.method ?? 'GET';
    const target = requestTarget(req.url ?? '/');
    this.path = target.path;
    this.query = target.query;
    this.headers = req.headers as Record<string, string>;
    this.remote = req.socket.remoteAddress ?? '';
    socket.on('error', () => {}); // a reset before the answer: 'close' follows
    socket.on('close', () => {
      if (!this.finish()) return;
      this.aborted = true;
      const cb = this.abortCb;
      this.abortCb = undefined;
      cb?.();
    });
    if ((this.headers.upgrade ?? '').toLowerCase() === 'websocket') {
      this.upgradeWebSocket = (h) => {
        if (!this.finish()) return;
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.on('message', (data: Buffer, binary: boolean) => h.message(data, binary));
          ws.on('close', () => h.close());
          ws.on('error', () => {}); // a protocol error closes it: 'close' follows
          h.open({
            // Past the bound a slow viewer misses output rather than growing Weir's memory (as uWS drops it).
            send: (d, binary) => ws.readyState === ws.OPEN && ws.bufferedAmount <= WS_MAX_BACKPRESSURE && (ws.send(d, { binary }), true),
            end: (code, reason) => ws.close(code, reason),
          });
        });
      };
    }
  }
  remoteAddress(): string {
    return this.remote;
  }


  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.finishedCb();
    return true;
  }

  /** Nothing is read from the socket until readBody: nothing to hold. */
  holdBody(): void {}

  /** A GET upgrade carries no body; one announced by Content-Length is read (head first, then the socket). */
  readBody(limit: number, done: (body: Buffer | null, tooLarge: boolean) => void): void {
    const h = this.headers;
    if (h['transfer-encoding']) return done(null, true); // not parsed on a raw socket: refused rather than misread
    const want = Number(h['content-length'] ?? 0) || 0;
    if (want > limit) return done(null, true);
    if (want === 0) return done(EMPTY, false);
    const parts: Buffer[] = [this.head];
    let size = this.head.length;
    const onData = (c: Buffer) => {
      parts.push(c);
      size += c.length;
      if (size >= want) {
        this.socket.removeListener('data', onData);
        done(Buffer.concat(parts, size).subarray(0, want), false);
      }
    };
    if (size >= want) return done(Buffer.concat(parts, size).subarray(0, want), false);
    this.socket.on('data', onData);
  }

  onAbort(cb: () => void): void {
    this.abortCb = cb;
  }

  private writeHead(status: number, headers: HeaderList, length: number | null): void {
    let head = `HTTP/1.1 ${statusLine(status)}\r\n`;
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    if (length !== null) head += `content-length: ${length}\r\n`;
    this.socket.write(`${head}connection: close\r\n\r\n`);
  }

  respond(status: number, headers: HeaderList, body: string | Buffer): void {
    if (!this.finish()) return;
    this.writeHead(status, headers, Buffer.byteLength(body));
    this.socket.end(this.method === 'HEAD' ? undefined : body);
  }

  /** The body ends when the connection does (no length, no chunking): the socket is ours alone. */
  startStream(status: number, headers: HeaderList): void {
    if (this.finished) return;
    this.writeHead(status, headers, null);
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished) return true;
    return this.socket.write(chunk);
  }

  onWritable(cb: () => void): void {
    if (!this.finished) this.socket.once('drain', cb);
  }

  end(chunk?: Buffer | string): void {
    if (this.finish()) this.socket.end(chunk);
  }

  destroy(): void {
    if (this.finish()) this.socket.destroy();
  }
}
