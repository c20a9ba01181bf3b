// The gateway's own HTTP/1.1 client for model calls: per origin, a stack of idle keep-alive
// connections and as many busy ones as calls in flight (no limit, no queue, no pipelining). It
// takes undici's dispatch handlers, so a call is written once for either client.
//
// Why not undici for these: a model call is one small request and one answer, and undici's
// general machinery (its request queue, stream layers under the socket, a timer per request)
// cost a gateway worker more than the rest of the call's own work (PERF.md, issue 15). Model
// calls, signed provider wires (a body in pieces goes out in one writev, none copied),
// pass-through routes and token counts use it.
//
// Idle connections are taken most recent first; one idle past its time (30 s, or the server's
// `keep-alive: timeout` less a second) is closed when met, and a sweep closes the rest.
import type { ConnectionOptions } from 'node:tls';
import type { Dispatcher } from 'undici';
import { LentBody } from '../server/large-buffers';
import { H1Connection, type ConnectionOwner, type OriginSpec } from './h1-connection';
import { requestHead } from './request-head';
import { UpstreamRequest } from './upstream-request';

export interface H1PoolOptions {
  /** How long an idle connection is kept when the server gives no hint (default 30 s). */
  keepAliveMs?: number;
  /** The longest a server's hint may keep one (default 600 s). */
  keepAliveMaxMs?: number;
  /** Extra TLS options for https origins (a test's CA). */
  tls?: ConnectionOptions;
}

export interface H1DispatchOptions {
  path: string;
  method: string;
  /** Name/value pairs. */
  headers: readonly string[];
  /** Whole, in pieces (a signed wire's views of other buffers, sent as they are), or lent. */
  body: Buffer | readonly Buffer[] | LentBody | null;
}

const SWEEP_MS = 1000;

function byteLength(body: Buffer | readonly Buffer[]): number {
  if (!Array.isArray(body)) return (body as Buffer).length;
  let n = 0;
  for (const part of body as readonly Buffer[]) n += part.length;
  return n;
}

export class H1Pool implements ConnectionOwner {
  private readonly spec: OriginSpec;
  private readonly hostHeader: string;
  private readonly idle: H1Connection[] = [];
  private readonly keepAliveMs: number;
  private readonly keepAliveMaxMs: number;
  private sweeper: NodeJS.Timeout | null = null;
  /** Connections open or opening. */
  private live = 0;
  private closing = false;
  private drained: (() => void) | null = null;

  constructor(origin: string, o: H1PoolOptions = {}) {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`not an http(s) origin: ${origin}`);
    const secure = u.protocol === 'https:';
    const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.spec = { host, port: u.port ? Number(u.port) : secure ? 443 : 80, secure, tls: o.tls ?? null };
    this.hostHeader = u.host;
    this.keepAliveMs = o.keepAliveMs ?? 30_000;
    this.keepAliveMaxMs = o.keepAliveMaxMs ?? 600_000;
  }

  /** Sends the request; the handler hears of it as from undici. Always true (nothing is queued). */
  dispatch(opts: H1DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const lent = opts.body instanceof LentBody ? opts.body : null;
    const body = lent ? lent.chunk : (opts.body as Buffer | readonly Buffer[] | null);
    let head = '';
    let invalid: Error | null = null;
    try {
      head = requestHead(opts.method, opts.path, this.hostHeader, opts.headers, body ? byteLength(body) : opts.method === 'GET' || opts.method === 'HEAD' ? -1 : 0);
    } catch (e) {
      invalid = e as Error;
    }
    const req = new UpstreamRequest(handler, head, body, lent ? () => lent.sentWhole() : null, opts.method);
    handler.onRequestStart?.(req, {});
    if (invalid) req.abort(invalid);
    if (req.aborted) return true;
    if (this.closing) {
      req.abort(new Error('the gateway is shutting down'));
      return true;
    }
    this.take().send(req);
    return true;
  }

  /** An idle connection still within its time, else a new one. */
  private take(): H1Connection {
    if (this.idle.length > 0) {
      const now = Date.now();
      while (this.idle.length > 0) {
        const c = this.idle.pop()!;
        if (now - c.idleSince < c.keepAliveMs) return c;
        c.destroy();
      }
    }
    return this.open();
  }

  private open(): H1Connection {
    this.live++;
    return new H1Connection(this, this.spec);
  }

  release(c: H1Connection): void {
    if (this.closing) return c.destroy();
    c.idleSince = Date.now();
    const hint = c.keepAliveHintMs;
    c.keepAliveMs = hint > 0 ? Math.min(this.keepAliveMaxMs, hint - 1000) : this.keepAliveMs;
    this.idle.push(c);
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
  }

  forget(c: H1Connection): void {
    const i = this.idle.lastIndexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    this.live--;
    if (this.closing && this.live === 0) this.drained?.();
  }

  /** Closes idle connections past their time; the oldest are at the bottom of the stack. */
  private sweep(): void {
    const now = Date.now();
    while (this.idle.length > 0 && now - this.idle[0]!.idleSince >= this.idle[0]!.keepAliveMs) this.idle[0]!.destroy();
    if (this.idle.length === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Closes idle connections now and resolves once the busy ones have finished their answers. */
  close(): Promise<void> {
    this.closing = true;
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
    while (this.idle.length > 0) this.idle[this.idle.length - 1]!.destroy();
    if (this.live === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }
}
