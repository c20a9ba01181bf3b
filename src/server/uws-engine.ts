// The uWebSockets.js engine. Every worker thread listens on the same port and the kernel spreads
// connections between them (SO_REUSEPORT, the uSockets default on Linux): the builds that load on
// Node 20 here have no child-app descriptors for an acceptor thread to hand sockets over.
import { performance } from 'node:perf_hooks';
import type { Engine, Exchange, HeaderList, RequestHandler } from './exchange';
import { statusLine } from './status-line';

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
  onData(h: (chunk: ArrayBuffer, isLast: boolean) => void): UwsResponse;
}
interface UwsRequest {
  getHeader(k: string): string;
  getUrl(): string;
  getCaseSensitiveMethod(): string;
  getQuery(): string;
  forEach(cb: (k: string, v: string) => void): void;
}
interface UwsApp {
  any(pattern: string, h: (res: UwsResponse, req: UwsRequest) => void): UwsApp;
  listen(host: string, port: number, cb: (socket: unknown) => void): UwsApp;
}
export interface UwsModule {
  App(): UwsApp;
  us_listen_socket_close(s: unknown): void;
  us_socket_local_port(s: unknown): number;
}

const EMPTY = Buffer.alloc(0);

class UwsExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string> = {};
  readonly startedAt = performance.now();
  aborted = false;
  private finished = false;
  private bodyPending = false;
  private abortCb: (() => void) | undefined;
  private writableCb: (() => void) | undefined;
  private writableHooked = false;

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
    res.onAborted(() => {
      this.aborted = true;
      this.finish();
      const cb = this.abortCb;
      this.abortCb = undefined;
      if (cb) cb();
    });
  }

  readBody(limit: number, done: (body: Buffer | null, tooLarge: boolean) => void): void {
    const declared = Number(this.headers['content-length']);
    if (declared > limit) {
      this.bodyPending = true;
      done(null, true);
      return;
    }
    this.bodyPending = true;
    // With a declared length the body is copied once into one buffer; otherwise chunks are kept.
    const fixed = Number.isInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : null;
    const parts: Buffer[] = [];
    let size = 0;
    let refused = false;
    this.res.onData((ab, isLast) => {
      if (refused || this.aborted) return;
      const chunk = new Uint8Array(ab);
      if (size + chunk.length > limit || (fixed && size + chunk.length > fixed.length)) {
        refused = true;
        done(null, true);
        return;
      }
      if (fixed) fixed.set(chunk, size);
      else parts.push(Buffer.from(chunk)); // Buffer.from(Uint8Array) copies: uWS reuses `ab`
      size += chunk.length;
      if (isLast) {
        this.bodyPending = false;
        done(fixed ? fixed.subarray(0, size) : parts.length === 1 ? parts[0]! : size ? Buffer.concat(parts, size) : EMPTY, false);
      }
    });
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
    if (!this.finish()) return;
    // A response sent before the body was read (413, early 401) must close the connection: the
    // rest of the body is still on the wire and would be read as the next request.
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
    this.res.cork(() => {
      this.res.writeStatus(statusLine(status));
      for (let i = 0; i < headers.length; i += 2) this.res.writeHeader(headers[i]!, headers[i + 1]!);
    });
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished) return true;
    let ok = true;
    this.res.cork(() => {
      ok = this.res.write(chunk);
    });
    return ok;
  }

  onWritable(cb: () => void): void {
    if (this.finished) return;
    this.writableCb = cb;
    if (this.writableHooked) return;
    this.writableHooked = true;
    this.res.onWritable(() => {
      const next = this.writableCb;
      this.writableCb = undefined;
      if (next) next();
      return true;
    });
  }

  end(chunk?: Buffer | string): void {
    if (!this.finish()) return;
    const close = this.engine.draining;
    this.res.cork(() => {
      this.res.end(chunk, close);
    });
  }

  destroy(): void {
    if (this.finish()) this.res.close();
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
      handler(new UwsExchange(res, req, this));
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
