// One keep-alive connection of the gateway's HTTP/1.1 client: it carries one request at a time
// (no pipelining), reads its answer with a ResponseReader, and goes back to its pool when the
// answer ended cleanly with the request written whole.
//
// A plain connection reads into one buffer shared by every connection of the thread (Node's
// `onread`): no stream machinery and no fresh buffer per read. Each read is handled before the
// next, so the buffer is free again once `received` returns; what a handler keeps of it is copied.
// A TLS connection reads through its stream's 'data' events, whose chunks are its own.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { log } from '../log';
import { ResponseReader, type ResponseSink } from './response-reader';
import type { RequestCarrier, UpstreamRequest } from './upstream-request';

export interface OriginSpec {
  host: string;
  port: number;
  secure: boolean;
  /** Extra TLS options (a test's CA); null: Node's defaults, which NODE_EXTRA_CA_CERTS extends. */
  tls: tls.ConnectionOptions | null;
}

/** What a connection's pool does for it. */
export interface ConnectionOwner {
  /** The connection may serve another request. */
  release(c: H1Connection): void;
  /** The connection is gone (called once). */
  forget(c: H1Connection): void;
}

/** The connection closed with a request on it and no error to name. */
export class UpstreamClosed extends Error {
  readonly code = 'UPSTREAM_CLOSED';
}

/** A body up to this size goes out in one buffer with the head (one copy, one write). */
const INLINE_BODY = 16 * 1024;
const READ_BUFFER = 64 * 1024;
let shared: Buffer | null = null;
const sharedBuffer = (): Buffer => (shared ??= Buffer.allocUnsafe(READ_BUFFER));

export class H1Connection implements RequestCarrier, ResponseSink {
  private readonly socket: net.Socket;
  private readonly reader = new ResponseReader(this);
  private current: UpstreamRequest | null = null;
  /** Set when the current answer ended with the request written whole on a connection that stays open. */
  private reusable = false;
  private dead = false;
  private error: Error | null = null;
  /** Bytes read for the current request while it was paused (a copy), and whether the socket closed behind them. */
  private stash: Buffer | null = null;
  private closedBehindStash = false;
  /** Reading was stopped for a paused handler (or its held bytes). */
  private readStopped = false;
  /** The read being handled lies in the shared buffer: what a handler is given is copied. */
  private borrowed = false;
  /** When it went back to the pool, and how long it may wait there (the pool's rule and the server's hint). */
  idleSince = 0;
  keepAliveMs = 0;

  constructor(
    private readonly owner: ConnectionOwner,
    o: OriginSpec,
  ) {
    if (o.secure) {
      const s = tls.connect({ ...o.tls, host: o.host, port: o.port, servername: net.isIP(o.host) ? undefined : o.host, ALPNProtocols: ['http/1.1'] });
      s.on('data', (d: Buffer) => this.received(d, 0, d.length, false));
      this.socket = s;
    } else {
      this.socket = net.connect({
        host: o.host,
        port: o.port,
        onread: {
          buffer: sharedBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            this.received(buf as Buffer, 0, n, true);
            return this.current === null || !this.current.paused;
          },
        },
      });
    }
    // Model calls are small writes answered by long reads: no Nagle delay on the request.
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 60_000);
    this.socket.on('error', (e: Error) => {
      this.error ??= e;
    });
    this.socket.on('close', () => this.closed());
  }

  /** The server's keep-alive hint from the last answer, ms (0: none). */
  get keepAliveHintMs(): number {
    return this.reader.keepAliveHintMs;
  }

  send(req: UpstreamRequest): void {
    this.current = req;
    this.reusable = false;
    req.carrier = this;
    // The last answer may have ended while its handler had reading stopped.
    if (this.readStopped) this.startReading();
    this.reader.start(req.method === 'HEAD');
    const body = req.body;
    const s = this.socket;
    if (Array.isArray(body)) {
      // Pieces: one writev of the head and every piece, none copied.
      s.cork();
      s.write(req.head, 'latin1');
      for (const part of body as readonly Buffer[]) if (part.length > 0) s.write(part);
      s.uncork();
    } else if (body === null || (body as Buffer).length === 0) {
      s.write(req.head, 'latin1');
    } else if ((body as Buffer).length <= INLINE_BODY) {
      const n = req.head.length;
      const b = Buffer.allocUnsafe(n + (body as Buffer).length);
      b.write(req.head, 0, 'latin1');
      (body as Buffer).copy(b, n);
      s.write(b);
    } else {
      s.cork();
      s.write(req.head, 'latin1');
      s.write(body as Buffer);
      s.uncork();
    }
  }

  // ---- reading ---------------------------------------------------------------------------

  private received(buf: Buffer, start: number, end: number, borrowed: boolean): void {
    const req = this.current;
    if (req === null) {
      // Bytes no request asked for (a server speaking out of turn): the connection is not to be trusted.
      this.destroy();
      return;
    }
    req.answered = true;
    if (req.paused || this.stash !== null) {
      this.keep(buf, start, end);
      return;
    }
    this.borrowed = borrowed;
    let pos: number;
    try {
      pos = this.reader.read(buf, start, end);
    } catch (e) {
      this.readFailed(req, e as Error);
      return;
    }
    if (this.current === req) {
      // Still on this answer: the handler paused, the rest waits.
      if (pos < end) this.keep(buf, pos, end);
      return;
    }
    if (this.dead) return;
    // The answer ended in this read. Bytes after it, or a connection the server will close, are not used again.
    if (pos < end || !this.reusable) this.destroy();
    else this.owner.release(this);
  }

  private keep(buf: Buffer, start: number, end: number): void {
    const rest = buf.subarray(start, end);
    this.stash = this.stash === null ? Buffer.from(rest) : Buffer.concat([this.stash, rest]);
    this.pauseReading();
  }

  private readFailed(req: UpstreamRequest, e: Error): void {
    if (this.current === req) {
      this.current = null;
      this.destroy();
      req.fail(e);
      return;
    }
    // The handler threw after its answer had ended: nothing is left to tell it.
    this.destroy();
    log.error(`upstream answer handler failed after the answer ended: ${e.message}`);
  }

  // ---- the reader's sink -----------------------------------------------------------------

  get paused(): boolean {
    return this.current === null || this.current.paused;
  }

  head(status: number, headers: Record<string, string | string[]>, statusText: string): void {
    this.current?.started(status, headers, statusText);
  }

  data(view: Buffer): void {
    this.current?.data(this.borrowed ? Buffer.from(view) : view);
  }

  end(): void {
    const req = this.current;
    // Aborted by its handler on seeing the head of an answer that had no body to follow.
    if (req === null) return;
    this.current = null;
    req.carrier = null;
    // Nothing of the request is still queued in Node: it went out whole.
    const whole = this.socket.writableLength === 0;
    this.reusable = whole && this.reader.keepAlive && !this.dead;
    if (whole) req.onWritten?.();
    req.end();
  }

  // ---- the request's controller calls ----------------------------------------------------

  drop(req: UpstreamRequest): void {
    if (this.current === req) this.current = null;
    this.destroy();
  }

  pauseReading(): void {
    this.readStopped = true;
    this.socket.pause();
  }

  private startReading(): void {
    this.readStopped = false;
    this.socket.resume();
  }

  resumeReading(req: UpstreamRequest): void {
    if (this.current !== req) return;
    if (this.stash === null) {
      this.startReading();
      return;
    }
    // Out of the caller's stack (a client's drain callback): the held bytes first, then the socket.
    setImmediate(() => this.drain(req));
  }

  private drain(req: UpstreamRequest): void {
    if (this.current !== req || req.paused || this.stash === null) return;
    const b = this.stash;
    this.stash = null;
    this.received(b, 0, b.length, false);
    if (this.current !== req || this.stash !== null) return;
    if (this.closedBehindStash) this.endOfBytes(req);
    else this.startReading();
  }

  // ---- the connection's end --------------------------------------------------------------

  destroy(): void {
    if (!this.dead) {
      this.dead = true;
      this.owner.forget(this);
    }
    this.socket.destroy();
  }

  private closed(): void {
    if (!this.dead) {
      this.dead = true;
      this.owner.forget(this);
    }
    const req = this.current;
    if (req === null) return;
    if (this.stash !== null) {
      // Paused with bytes held: they are read first, when the handler resumes.
      this.closedBehindStash = true;
      return;
    }
    this.endOfBytes(req);
  }

  /** No more bytes will come for the current request. */
  private endOfBytes(req: UpstreamRequest): void {
    if (this.error === null && this.reader.endsWithConnection) {
      // A body framed by the connection's end: complete.
      this.borrowed = false;
      this.reader.closed();
      return;
    }
    this.current = null;
    req.carrier = null;
    // Not sent again, even on a kept-alive connection that had served others: a server that read
    // the request and then dropped the connection cannot be told from one that closed it idle,
    // and a model call must not run twice behind the caller's back (its retry rules decide).
    req.fail(this.error ?? new UpstreamClosed(req.answered ? 'the upstream closed the connection before its answer ended' : 'the upstream closed the connection without answering'));
  }
}
