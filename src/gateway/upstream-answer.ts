// The base of the gateway's undici handlers (ProxyCall, the pass-through call): an answer that
// arrives compressed is decoded before the handler sees it, decided per answer.
//
// Weir asks upstreams for identity encoding; one that compresses anyway (a CDN, a misconfigured
// server) is decoded on the way in, error bodies included, so the client gets readable bytes it can
// read without having asked for an encoding, and the usage in them is charged. The decoding is
// undici's decompress handler, put over the call only when the answer names a content-encoding:
// as an interceptor on the pool it was made for every request (≈ 500 B a call, issue 15), for
// answers that are almost never compressed. undici itself is loaded by the first such answer.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { undici } from '../upstream/undici-lib';

type Controller = Dispatcher.DispatchController;

let decompressor: Dispatcher.DispatchInterceptor | null = null;

/**
 * undici's decompress interceptor, made when first needed. undici marks it experimental and says
 * so on stderr when it is made; that one notice is kept out of the gateway's output (its interface
 * is pinned by the lockfile and covered by the gateway's tests).
 */
export function decompress(): Dispatcher.DispatchInterceptor {
  if (decompressor !== null) return decompressor;
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return (decompressor = undici().interceptors.decompress({ skipErrorResponses: false }));
  } finally {
    process.emitWarning = emit;
  }
}

/** The interceptor's handler over `inner`: the interceptor hands it to the dispatch it wraps, which here only keeps it. */
function decoderOver(inner: Dispatcher.DispatchHandler): Dispatcher.DispatchHandler {
  let made: Dispatcher.DispatchHandler | null = null;
  decompress()((_opts, handler) => {
    made = handler;
    return true;
  })({} as Dispatcher.DispatchOptions, inner);
  return made!;
}

export abstract class UpstreamAnswer implements Dispatcher.DispatchHandler {
  /** The decoder of the current answer while it is being decoded, else null. */
  private decoding: Dispatcher.DispatchHandler | null = null;

  /** Called by undici for each request sent, and again by a decoder with the controller to use instead. */
  abstract onRequestStart(c: Controller, context?: unknown): void;
  /** The answer as the client is to get it: decoded, without content-encoding and content-length when it was encoded. */
  protected abstract answerStart(c: Controller, status: number, headers: IncomingHttpHeaders): void;
  protected abstract answerData(c: Controller, chunk: Buffer): void;
  protected abstract answerEnd(c: Controller): void;
  protected abstract answerError(c: Controller, err: Error): void;

  onResponseStart(c: Controller, status: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    const encoding = headers['content-encoding'];
    if (encoding === undefined || encoding === 'identity') {
      this.decoding = null;
      return this.answerStart(c, status, headers);
    }
    const self = this;
    const d = (this.decoding = decoderOver({
      onRequestStart: (dc: Controller) => self.onRequestStart(dc),
      onResponseStart: (dc: Controller, s: number, h: IncomingHttpHeaders) => self.answerStart(dc, s, h),
      onResponseData: (dc: Controller, chunk: Buffer) => self.answerData(dc, chunk),
      // The decoder is done with this answer: whatever the call does next (a retry) is not its.
      onResponseEnd: (dc: Controller) => {
        self.decoding = null;
        self.answerEnd(dc);
      },
      onResponseError: (dc: Controller, err: Error) => {
        self.decoding = null;
        self.answerError(dc, err);
      },
    }));
    d.onRequestStart!(c, {});
    d.onResponseStart!(c, status, headers as Record<string, string | string[]>, statusMessage ?? '');
  }

  onResponseData(c: Controller, chunk: Buffer): void {
    if (this.decoding) this.decoding.onResponseData!(c, chunk);
    else this.answerData(c, chunk);
  }

  onResponseEnd(c: Controller, trailers: IncomingHttpHeaders): void {
    if (this.decoding) this.decoding.onResponseEnd!(c, trailers as Record<string, string | string[]>);
    else this.answerEnd(c);
  }

  onResponseError(c: Controller, err: Error): void {
    if (this.decoding) this.decoding.onResponseError!(c, err);
    else this.answerError(c, err);
  }
}
