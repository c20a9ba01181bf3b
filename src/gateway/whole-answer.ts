// One upstream request whose answer is wanted whole (a token count), on the same client as the
// gateway's calls (upstream-pool.ts): the answer decoded if it comes compressed (UpstreamAnswer),
// gathered, and given back with its status and headers. A timeout bounds the whole exchange.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { H1DispatchOptions } from '../upstream/h1-pool';
import { UpstreamAnswer } from './upstream-answer';
import type { CallPool } from './upstream-pool';

type Controller = Dispatcher.DispatchController;

export interface WholeAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** The request took longer than its timeout (the caller answers 408). */
export class WholeAnswerTimeout extends Error {}

class Gatherer extends UpstreamAnswer {
  private controller: Controller | null = null;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private done = false;

  constructor(
    private readonly resolve: (a: WholeAnswer) => void,
    private readonly reject: (e: Error) => void,
  ) {
    super();
  }

  /** Stops the exchange: the answer so far is dropped and `reason` is what the caller gets. */
  stop(reason: Error): void {
    if (this.done) return;
    if (this.controller !== null) this.controller.abort(reason);
    else this.fail(reason);
  }

  onRequestStart(c: Controller): void {
    this.controller = c;
  }
  protected answerStart(_c: Controller, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
  }
  protected answerData(_c: Controller, chunk: Buffer): void {
    // The client's read buffer is reused once this returns: the chunk is copied.
    this.chunks.push(Buffer.from(chunk));
  }
  protected answerEnd(): void {
    if (this.done) return;
    this.done = true;
    this.resolve({ status: this.status, headers: this.headers, body: Buffer.concat(this.chunks) });
  }
  protected answerError(_c: Controller, err: Error): void {
    this.fail(err);
  }
  private fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.reject(err);
  }
}

/**
 * Sends `opts` on `pool` and gathers the answer. Rejects with the connection's error, with "the
 * client went away" once `signal` aborts, or with a WholeAnswerTimeout after `timeoutMs`.
 */
export function requestWhole(pool: CallPool, opts: H1DispatchOptions, timeoutMs: number, signal: AbortSignal): Promise<WholeAnswer> {
  return new Promise<WholeAnswer>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const onAbort = (): void => g.stop(new Error('the client went away'));
    const settle = (): void => {
      if (timer !== null) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const g = new Gatherer(
      (a) => {
        settle();
        resolve(a);
      },
      (e) => {
        settle();
        reject(e);
      },
    );
    if (signal.aborted) return g.stop(new Error('the client went away'));
    signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => g.stop(new WholeAnswerTimeout('timeout')), timeoutMs);
    pool.dispatch(opts, g);
  });
}
