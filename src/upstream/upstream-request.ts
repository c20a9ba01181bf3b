// One request on the gateway's own HTTP/1.1 client (h1-pool.ts): its bytes to send, and the
// controller its handler holds. The handler is an undici dispatch handler (the gateway's calls
// are written against that interface) and sees the same calls in the same order: onRequestStart,
// then onResponseStart, onResponseData…, and onResponseEnd or onResponseError, once.
//
// A controller per request, not per connection: a late call from a handler whose answer has
// ended (a timer that fires after it, a client that drains) must not touch the next request the
// connection serves.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** What the connection serving a request does for it. */
export interface RequestCarrier {
  /** The request gave up mid-way: the connection cannot serve another. */
  drop(req: UpstreamRequest): void;
  pauseReading(): void;
  /** Reading may go on: bytes held while paused first, then the socket. */
  resumeReading(req: UpstreamRequest): void;
}

export class UpstreamRequest implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  /** The connection serving it, from its send to its end (null before and after). */
  carrier: RequestCarrier | null = null;
  /** Any byte of the answer arrived. */
  answered = false;
  /** onResponseEnd or onResponseError was called. */
  private settled = false;

  constructor(
    readonly handler: Dispatcher.DispatchHandler,
    /** The request line and header fields, CRLF-ended, blank line included. */
    readonly head: string,
    readonly body: Buffer | readonly Buffer[] | null,
    /** Told once the body was handed whole to the kernel and the answer then ended normally. */
    readonly onWritten: (() => void) | null,
    readonly method: string,
  ) {}

  abort(reason: Error): void {
    if (this.aborted || this.settled) return;
    this.aborted = true;
    this.reason = reason;
    const c = this.carrier;
    this.carrier = null;
    if (c === null) {
      // Not sent yet (aborted in onRequestStart): told after the dispatch that started it returns.
      queueMicrotask(() => this.fail(reason));
      return;
    }
    c.drop(this);
    this.fail(reason);
  }

  pause(): void {
    if (this.paused || this.settled) return;
    this.paused = true;
    this.carrier?.pauseReading();
  }

  resume(): void {
    if (!this.paused || this.settled) return;
    this.paused = false;
    this.carrier?.resumeReading(this);
  }

  // ---- what the connection reads for it --------------------------------------------------

  started(status: number, headers: Record<string, string | string[]>, statusText: string): void {
    this.handler.onResponseStart?.(this, status, headers as IncomingHttpHeaders, statusText);
  }

  /** A piece of the answer's body, the handler's to keep. */
  data(view: Buffer): void {
    if (this.settled || this.aborted) return;
    this.handler.onResponseData?.(this, view);
  }

  /** The answer ended; the connection has let the request go first. */
  end(): void {
    if (this.settled || this.aborted) return;
    this.settled = true;
    this.handler.onResponseEnd?.(this, {});
  }

  /** The request failed without an answer, or its answer was cut. */
  fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.carrier = null;
    this.handler.onResponseError?.(this, err);
  }
}
