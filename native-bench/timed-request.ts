// One HTTP request with its timings (start, response head, first body byte, end), sent through an
// undici dispatcher with a bare dispatch handler: no promise or stream per chunk, so the client's
// own cost is small and identical for every target it measures.
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';

export interface RequestSpec {
  path: string;
  method: 'POST' | 'GET';
  /** Flat list: name, value, name, value… */
  headers: string[];
  body: Buffer | null;
  /** Bodies sent in turn instead, the i-th call of a closed loop the (i mod n)-th: a session's calls. */
  bodies?: Buffer[];
}

export interface Timed {
  status: number;
  /** performance.now() timestamps, ms. */
  start: number;
  headersAt: number;
  firstByteAt: number;
  end: number;
  bytes: number;
  error: string | null;
}

export type ChunkListener = (chunk: Buffer, now: number) => void;

class TimedHandler implements Dispatcher.DispatchHandler {
  readonly t: Timed;
  private controller: Dispatcher.DispatchController | null = null;
  timer: NodeJS.Timeout | null = null;
  private settled = false;

  constructor(
    start: number,
    private readonly resolve: (t: Timed) => void,
    private readonly onChunk: ChunkListener | undefined,
  ) {
    this.t = { status: 0, start, headersAt: 0, firstByteAt: 0, end: 0, bytes: 0, error: null };
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
  }

  /** Gives up on the exchange: it ends with error 'timeout'. */
  abort(): void {
    if (this.settled) return;
    if (this.controller) this.controller.abort(new Error('timeout'));
    else this.settle('timeout');
  }

  private settle(error: string | null): void {
    if (this.settled) return;
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    this.t.end = performance.now();
    this.t.error = error;
    if (error === null && this.t.firstByteAt === 0) this.t.firstByteAt = this.t.end;
    this.resolve(this.t);
  }

  onResponseStart(_c: Dispatcher.DispatchController, status: number): void {
    this.t.status = status;
    this.t.headersAt = performance.now();
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    const now = performance.now();
    if (this.t.firstByteAt === 0) this.t.firstByteAt = now;
    this.t.bytes += chunk.length;
    if (this.onChunk) this.onChunk(chunk, now);
  }

  onResponseEnd(): void {
    this.settle(null);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.settle(err.message || err.name || 'error');
  }
}

/** Sends one request; never rejects (failures, and giving up after timeoutMs, come back in `error`). */
export function timedRequest(d: Dispatcher, spec: RequestSpec, onChunk?: ChunkListener, timeoutMs?: number): Promise<Timed> {
  return new Promise((resolve) => {
    const h = new TimedHandler(performance.now(), resolve, onChunk);
    if (timeoutMs !== undefined) h.timer = setTimeout(() => h.abort(), timeoutMs);
    try {
      d.dispatch({ path: spec.path, method: spec.method, headers: spec.headers, body: spec.body }, h);
    } catch (e) {
      h.onResponseError(null as unknown as Dispatcher.DispatchController, e as Error);
    }
  });
}

/** A successful exchange: a 2xx that ended without a transport error. */
export function succeeded(t: Timed): boolean {
  return t.error === null && t.status >= 200 && t.status < 300;
}
