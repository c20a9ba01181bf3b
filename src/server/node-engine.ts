// The node:http engine: serves the same routes where no uWebSockets.js build loads. Node ≥ 22.12
// can share the port between worker threads (reusePort); older Node serves from one thread. The
// WebSocket route (the live terminal) is served from the 'upgrade' event (node-upgrade.ts).
import http from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { announcesBody, shouldDrain } from './body-collector';
import { NodeUpgradeExchange, makeWsServer, withoutUpgrade } from './node-upgrade';
import { requestTarget } from './request-target';
import type { Engine, Exchange, HeaderList, RequestHandler } from './exchange';
import { isWsPath } from './ws-route';

const EMPTY = Buffer.alloc(0);

export function nodeHasReusePort(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  return major > 22 || (major === 22 && minor >= 12);
}

class NodeExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly startedAt = performance.now();
  aborted = false;
  private finished = false;
  /** A body was announced and is not read yet (see announcesBody). */
  private bodyPending: boolean;
  private abortCb: (() => void) | undefined;
  /** Set while an answer waits for the rest of the body to be dropped (see DRAIN_MAX). */
  private draining = false;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly engine: NodeEngine,
  ) {
    this.method = req.method ?? 'GET';
    const target = requestTarget(req.url ?? '/');
    this.path = target.path;
    this.query = target.query;
    // Node joins repeated headers with ", " already (set-cookie aside, which requests do not carry).
    this.headers = req.headers as Record<string, string>;
    this.bodyPending = announcesBody(this.headers);
    res.on('close', () => {
      if (!res.writableFinished) {
        this.aborted = true;
        if (this.finish()) {
          const cb = this.abortCb;
          this.abortCb = undefined;
          if (cb) cb();
        }
      }
    });
  }

  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.engine.inflight--;
    return true;
  }

  /** node:http reads nothing of the body until a 'data' listener is attached: nothing to hold. */
  holdBody(): void {}

  remoteAddress(): string {
    return this.req.socket.remoteAddress ?? '';
  }

  readBody(limit: number, done: (body: Buffer | null, tooLarge: boolean) => void): void {
    if (Number(this.headers['content-length']) > limit) {
      done(null, true);
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let refused = false;
    this.req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        done(null, true);
        return;
      }
      parts.push(chunk);
    });
    this.req.on('end', () => {
      if (refused || this.aborted) return;
      this.bodyPending = false;
      done(parts.length === 1 ? parts[0]! : size ? Buffer.concat(parts, size) : EMPTY, false);
    });
  }

  onAbort(cb: () => void): void {
    this.abortCb = cb;
  }

  private writeHead(status: number, headers: HeaderList, close: boolean): void {
    const res = this.res;
    res.statusCode = status;
    for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
    if (close) res.setHeader('connection', 'close');
  }

  respond(status: number, headers: HeaderList, body: string | Buffer): void {
    if (this.finished || this.draining) return;
    // An answer before the body was read (413, early 401): the rest of a small body is dropped
    // first, so the client reads the answer, not a reset.
    if (this.bodyPending && !this.engine.draining && !this.req.complete && shouldDrain(this.headers)) {
      this.draining = true;
      this.req.on('end', () => {
        this.bodyPending = false;
        this.respondNow(status, headers, body);
      });
      this.req.resume();
      return;
    }
    this.respondNow(status, headers, body);
  }

  private respondNow(status: number, headers: HeaderList, body: string | Buffer): void {
    if (!this.finish()) return;
    if (this.req.complete) this.bodyPending = false;
    this.writeHead(status, headers, this.engine.draining || this.bodyPending);
    this.res.setHeader('content-length', Buffer.byteLength(body));
    this.res.end(this.method === 'HEAD' ? undefined : body);
  }

  startStream(status: number, headers: HeaderList): void {
    if (this.finished) return;
    this.writeHead(status, headers, this.engine.draining);
    this.res.flushHeaders();
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished) return true;
    return this.res.write(chunk);
  }

  onWritable(cb: () => void): void {
    if (!this.finished) this.res.once('drain', cb);
  }

  end(chunk?: Buffer | string): void {
    if (this.finish()) this.res.end(chunk);
  }

  destroy(): void {
    if (this.finish()) this.res.destroy();
  }
}

export class NodeEngine implements Engine {
  inflight = 0;
  draining = false;
  private readonly server: http.Server;

  constructor(
    readonly name: string,
    handler: RequestHandler,
    private readonly reusePort: boolean,
  ) {
    this.server = http.createServer({ noDelay: true, keepAliveTimeout: 10_000 }, (req, res) => {
      this.inflight++;
      handler(new NodeExchange(req, res, this));
    });
    this.server.on('connection', (s: Socket) => s.setNoDelay(true));
    // node:http hands every request with an Upgrade header to this event, not to the request
    // handler. The WebSocket route goes through the gateway; any other is served as HTTP/1.1.
    const wss = makeWsServer();
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      if (isWsPath(requestTarget(req.url ?? '/').path)) {
        this.inflight++;
        return handler(new NodeUpgradeExchange(req, socket, head, wss, () => this.inflight--));
      }
      socket.unshift(withoutUpgrade(req, head));
      this.server.emit('connection', socket);
    });
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const opts: Record<string, unknown> = { host, port };
      if (this.reusePort) opts.reusePort = true;
      this.server.listen(opts, () => {
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  stopAccepting(): void {
    this.server.close();
    // Idle keep-alive connections would hold the thread open until they time out.
    this.server.closeIdleConnections();
  }

  setDraining(): void {
    this.draining = true;
  }
}
