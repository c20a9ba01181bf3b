// The uWebSockets.js engine. Every worker thread listens on the same port and the kernel spreads
// connections between them (SO_REUSEPORT, the uSockets default on Linux): the builds that load on
// Node 20 here have no child-app descriptors for an acceptor thread to hand sockets over.
import { performance } from 'node:perf_hooks';
import type { Engine, Exchange, HeaderList, RequestHandler, WsHandlers } from './exchange';
import { StagedBytes } from './staged-bytes';
import { statusLine } from './status-line';
import { TERMINAL_CONTROLS, TERMINAL_CONTROLS_HEADER, WS_MAX_BACKPRESSURE, WS_MAX_PAYLOAD, WS_PATTERN } from './ws-route';

// Types of the uWS build are structural here so either published build can be loaded.
interface UwsResponse {
  cork(cb: () => void): UwsResponse;
  writeStatus(s: string): UwsResponse;
  writeHeader(k: string, v: string): UwsResponse;
  write(chunk: string | Uint8Array): boolean;
  end(body?: string | Uint8Array, closeConnection?: boolean): UwsResponse;
  endWithoutBody(len?: number, closeConnection?: boolean): UwsResponse;
  close(): UwsResponse;
  onWritable(h: (offset: number) => boolean): UwsResponse;
  onAborted(h: () => void): UwsResponse;
  getRemoteAddressAsText(): ArrayBuffer;
  onData(h: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
  pause(): void;
  resume(): void;
}
interface UwsRequest {
  getHeader(k: string): string;
  getUrl(): string;
  getCaseSensitiveMethod(): string;
  getQuery(): string;
  forEach(cb: (k: string, v: string) => void): void;
}
interface UwsWebSocket {
  send(message: string | Uint8Array, isBinary?: boolean): number;
  end(code?: number, reason?: string): void;
  getUserData(): { handlers: WsHandlers; closed?: boolean };
}
interface UwsWsBehavior {
  maxPayloadLength: number;
  maxBackpressure: number;
  idleTimeout: number;
  upgrade(res: UwsResponse & { upgrade(data: unknown, key: string, protocol: string, extensions: string, context: unknown): void }, req: UwsRequest, context: unknown): void;
  open(ws: UwsWebSocket): void;
  message(ws: UwsWebSocket, message: ArrayBuffer, isBinary: boolean): void;
  close(ws: UwsWebSocket, code: number, message: ArrayBuffer): void;
}
interface UwsApp {
  any(pattern: string, h: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  ws(pattern: string, behavior: UwsWsBehavior): UwsApp;
  listen(host: string, port: number, cb: (socket: unknown) => void): UwsApp;
}
export interface UwsModule {
  App(): UwsApp;
  us_listen_socket_close(s: unknown): void;
  us_socket_local_port(s: unknown): number;
}

import { announcesBody, BodyCollector, shouldDrain } from './body-collector';

class UwsExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string> = {};
  readonly startedAt = performance.now();
  aborted = false;
  private finished = false;
  /** A body was announced and is not read yet (see announcesBody). */
  private bodyPending: boolean;
  private abortCb: (() => void) | undefined;
  private writableCb: (() => void) | undefined;
  private body: BodyCollector | undefined;
  private bodyDone: ((body: Buffer | null, tooLarge: boolean) => void) | undefined;
  /** Reading is paused until the caller is known (holdBody). */
  private held = false;
  /** Set while an answer waits for the rest of the body to be dropped (see DRAIN_MAX). */
  private afterDrain: (() => void) | undefined;
  /** True once the request handler returned: onData can no longer be attached. */
  handlerReturned = false;
  private writableHooked = false;
  /**
   * A stream's head and chunks written in this turn, sent together once the turn's synchronous
   * work is done (see write): an upstream read that held many events costs one send, not one each.
   */
  private headStatus = 0;
  private headHeaders: HeaderList | null = null;
  /** Made on the first write: a whole answer (respond) never needs one. */
  private staged: StagedBytes | null = null;
  private flushQueued = false;
  /** The last send left bytes buffered: write() says so until uWS reports the client drained. */
  private pressured = false;
  /**
   * A chunk of the answer went out, or its head said `connection: close`: the end must not ask uWS
   * to close, which writes that header again — after a chunked body, into the body itself.
   */
  private noCloseAtEnd = false;

  /** Set for an upgrade request on a WebSocket route (see UwsEngine). */
  upgradeWebSocket?: (h: WsHandlers) => void;

  constructor(
    private readonly res: UwsResponse,
    req: UwsRequest,
    private readonly engine: UwsEngine,
  ) {
    // The request object lives only for this synchronous call: copy what the gateway needs.
    this.method = req.getCaseSensitiveMethod().toUpperCase();
    this.path = req.getUrl();
    this.query = req.getQuery() ?? '';
    const headers = this.headers;
    req.forEach((k, v) => {
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    });
    this.bodyPending = announcesBody(headers);
    res.onAborted(() => {
      this.aborted = true;
      this.finish();
      const cb = this.abortCb;
      this.abortCb = undefined;
      if (cb) cb();
    });
  }

  remoteAddress(): string {
    return this.finished ? '' : Buffer.from(this.res.getRemoteAddressAsText()).toString('latin1');
  }

  holdBody(): void {
    if (this.body) return;
    this.body = new BodyCollector(Number(this.headers['content-length']));
    this.res.onData(this.onData);
    // uWS stops reading the socket: what arrived with the headers (one read at most) is kept.
    this.res.pause();
    this.held = true;
  }

  readBody(limit: number, done: (body: Buffer | null, tooLarge: boolean) => void): void {
    if (this.finished) return; // the client left (uWS forbids touching the response now)
    if (Number(this.headers['content-length']) > limit) {
      done(null, true);
      return;
    }
    if (!this.body) {
      this.body = new BodyCollector(Number(this.headers['content-length']));
      this.res.onData(this.onData);
    }
    this.body.setLimit(limit);
    this.bodyDone = done;
    if (this.held) {
      this.held = false;
      this.res.resume();
    }
    this.deliver();
  }

  private readonly onData = (ab: ArrayBuffer, isLast: boolean): void => {
    if (this.aborted || !this.body || this.body.state !== 'reading') return;
    // uWS reuses `ab` after this call: the collector copies.
    this.body.add(new Uint8Array(ab), isLast);
    if (this.afterDrain) {
      if (this.body.state === 'reading') return;
      const answer = this.afterDrain;
      this.afterDrain = undefined;
      return answer();
    }
    this.deliver();
  };

  /** Hands the body (or the refusal) to the reader once it asked and the collector is done. */
  private deliver(): void {
    const body = this.body!;
    const done = this.bodyDone;
    if (!done || body.state === 'reading') return;
    this.bodyDone = undefined;
    if (body.state === 'too-large') return done(null, true);
    this.bodyPending = false;
    done(body.take(), false);
  }

  onAbort(cb: () => void): void {
    this.abortCb = cb;
  }

  /** Marks the exchange over exactly once (end, destroy or abort, whichever comes first). */
  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.engine.inflight--;
    return true;
  }

  respond(status: number, headers: HeaderList, body: string | Buffer): void {
    if (this.finished || this.afterDrain) return;
    // An answer before the body was read (413, early 401): the rest of a small body is dropped
    // first, where onData can still be attached, so the client reads the answer, not a reset.
    if (this.bodyPending && !this.engine.draining && shouldDrain(this.headers) && (this.body || !this.handlerReturned)) {
      if (!this.body) {
        this.body = new BodyCollector(Number(this.headers['content-length']));
        this.res.onData(this.onData);
      }
      this.body.discard();
      if (this.body.state === 'reading') {
        this.afterDrain = () => this.respondNow(status, headers, body);
        if (this.held) {
          this.held = false;
          this.res.resume();
        }
        return;
      }
    }
    this.respondNow(status, headers, body);
  }

  private respondNow(status: number, headers: HeaderList, body: string | Buffer): void {
    if (!this.finish()) return;
    if (this.body?.state === 'complete') this.bodyPending = false;
    // A body still (partly) on the wire would be read as the next request: close the connection.
    const close = this.engine.draining || this.bodyPending;
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (let i = 0; i < headers.length; i += 2) this.res.writeHeader(headers[i]!, headers[i + 1]!);
      if (this.method === 'HEAD') this.res.endWithoutBody(Buffer.byteLength(body), close);
      else this.res.end(body, close);
    });
  }

  startStream(status: number, headers: HeaderList): void {
    if (this.finished) return;
    this.headStatus = status;
    this.headHeaders = headers;
    this.queueFlush();
  }

  /**
   * Queues the chunk; it goes out, with the head and every chunk written in this turn, in one
   * corked send once the turn's synchronous work is done (a microtask: before any I/O, so nothing
   * waits). undici hands over each chunk of a chunked answer apart, and a burst of SSE events read
   * at once would otherwise cost a send each. False once a send left bytes buffered, until the
   * client drains: the caller stops producing and waits for onWritable, as before.
   */
  write(chunk: Buffer | string): boolean {
    if (this.finished) return true;
    (this.staged ??= new StagedBytes()).append(chunk);
    this.queueFlush();
    return !this.pressured;
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.finished) {
      // Ended (the end sent them) or aborted or destroyed (nobody to send them to).
      this.staged?.release();
      this.headHeaders = null;
      return;
    }
    this.res.cork(() => this.sendPending());
  }

  /**
   * A stream's status and headers, if not sent yet (inside a cork). Sent ahead of the end while
   * the worker drains, they ask the client to close (uWS can only say so before the body).
   */
  private writeHead(aheadOfEnd: boolean): void {
    const headers = this.headHeaders;
    if (!headers) return;
    this.headHeaders = null;
    this.res.writeStatus(statusLine(this.headStatus));
    for (let i = 0; i < headers.length; i += 2) this.res.writeHeader(headers[i]!, headers[i + 1]!);
    if (aheadOfEnd && this.engine.draining) {
      this.res.writeHeader('connection', 'close');
      this.noCloseAtEnd = true;
    }
  }

  /** The head and the staged bytes, inside a cork. */
  private sendPending(): void {
    this.writeHead(true);
    const staged = this.staged;
    if (staged === null || staged.empty) return;
    // uWS copies what it cannot send at once: the staged buffer is free again after the call.
    const ok = this.res.write(staged.bytes());
    this.noCloseAtEnd = true;
    staged.release(); // to the spare list: a stream holds no buffer between turns
    const was = this.pressured;
    this.pressured = !ok;
    if (!ok) this.hookWritable();
    // These sends drained what was buffered (uWS sends the old bytes first), so no writable event
    // is coming: a caller waiting for one is told now.
    else if (was && this.writableCb) queueMicrotask(() => this.drained());
  }

  onWritable(cb: () => void): void {
    if (this.finished) return;
    this.writableCb = cb;
    this.hookWritable();
    // Drained between the send that filled the buffer and this call: nothing will report it.
    if (!this.pressured) queueMicrotask(() => this.drained());
  }

  private hookWritable(): void {
    if (this.writableHooked) return;
    this.writableHooked = true;
    this.res.onWritable(() => {
      this.drained();
      return true;
    });
  }

  private drained(): void {
    this.pressured = false;
    const next = this.writableCb;
    this.writableCb = undefined;
    if (next && !this.finished) next();
  }

  end(chunk?: Buffer | string): void {
    if (!this.finish()) return;
    const close = this.engine.draining && !this.noCloseAtEnd;
    this.res.cork(() => {
      this.writeHead(false);
      const staged = this.staged;
      if (staged === null || staged.empty) this.res.end(chunk, close);
      else {
        // The end goes with what this turn staged: one chunk of the answer, not two. (A stream
        // whose every byte came in its first turn goes out with a length instead of chunked.)
        if (chunk !== undefined) staged.append(chunk);
        this.res.end(staged.bytes(), close);
      }
    });
    this.staged?.release();
  }

  destroy(): void {
    if (this.finish()) this.res.close();
  }

  /** For the WebSocket route: the upgrade, whenever the gateway decides (uWS allows it later, corked). */
  enableUpgrade(context: unknown): void {
    const res = this.res as UwsResponse & { upgrade(data: unknown, key: string, protocol: string, extensions: string, context: unknown): void };
    this.upgradeWebSocket = (handlers) => {
      if (!this.finish()) return;
      const h = this.headers;
      res.cork(() => {
        // The status first, so the header lands on the 101 (uWS writes a 200 for a header alone).
        res.writeStatus('101 Switching Protocols').writeHeader(TERMINAL_CONTROLS_HEADER, TERMINAL_CONTROLS);
        res.upgrade({ handlers }, h['sec-websocket-key'] ?? '', h['sec-websocket-protocol'] ?? '', h['sec-websocket-extensions'] ?? '', context);
      });
    };
  }
}

export class UwsEngine implements Engine {
  inflight = 0;
  draining = false;
  private listenSocket: unknown = null;
  private readonly app: UwsApp;

  constructor(
    private readonly uws: UwsModule,
    readonly name: string,
    handler: RequestHandler,
  ) {
    this.app = uws.App().any('/*', (res, req) => {
      this.inflight++;
      const ex = new UwsExchange(res, req, this);
      handler(ex);
      ex.handlerReturned = true;
    });
    // The upgrade request goes through the gateway like any request (auth, routing); the gateway
    // upgrades it once it knows the caller may attach.
    this.app.ws(WS_PATTERN, {
      maxPayloadLength: WS_MAX_PAYLOAD,
      maxBackpressure: WS_MAX_BACKPRESSURE,
      idleTimeout: 0,
      upgrade: (res, req, context) => {
        this.inflight++;
        const ex = new UwsExchange(res, req, this);
        ex.enableUpgrade(context);
        handler(ex);
        ex.handlerReturned = true;
      },
      open: (ws) => {
        const data = ws.getUserData();
        data.handlers.open({
          send: (d, binary) => !data.closed && ws.send(d, binary) !== 2,
          end: (code, reason) => {
            if (!data.closed) ws.end(code, reason);
          },
        });
      },
      message: (ws, message, isBinary) => ws.getUserData().handlers.message(Buffer.from(message.slice(0)), isBinary),
      close: (ws) => {
        const data = ws.getUserData();
        data.closed = true;
        data.handlers.close();
      },
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  stopAccepting(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }

  setDraining(): void {
    this.draining = true;
  }
}
