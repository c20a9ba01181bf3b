// One LLM call through the gateway: pick a deployment, forward the body, stream the answer back,
// and retry elsewhere when the upstream fails before anything reached the client. The object is
// its own undici dispatch handler, so a request allocates one handler and no promise chain.
// What the call records (headers, spend, metrics) is its base class, CallRecord (call-record.ts);
// what an attempt sends (headers, a wire's path and body) is built in upstream-request.ts.
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { mockDispatch } from '../providers/mock';
import type { Wire, WireSpec } from '../providers/wire';
import type { Exchange } from '../server/exchange';
import type { LentBody } from '../server/large-buffers';
import type { DeploymentHealth } from '../state/deployment-health';
import type { BodyScan } from './body-scan';
import { errorBody, GatewayError, streamErrorEvent } from './errors';
import { includeUsageEdit } from '../accounting/usage-include';
import { usdText } from '../number-text';
import { CallRecord, type CallContext, type Endpoint } from './call-record';
import { configuredFallbacks, resolveGroup } from './model-groups';
import { pickTarget } from './pick';
import { EventAligner } from './sse-align';
import { Translation } from './translation';
import type { ModelGroup, Snapshot, Target } from './snapshot';
import { describeTarget, fromUpstreamFailure, fromUpstreamStatus } from './upstream-error';
import { callPoolFor } from './upstream-pool';
import { dialectHeaders, wireRequest, type WireRequest } from './upstream-request';
import { backoffMs, noDeploymentError, retryPlan, worthAFallback } from './retry-rules';
import { attemptBody, sendAttempt, type AttemptBody } from './attempt-body';

export type { CallContext, Endpoint } from './call-record';

const MAX_ERROR_BODY = 64 * 1024;

class TimeoutError extends Error {}
/** A non-streamed answer passed max_response_size_mb: the call ends, it is not retried. */
class AnswerTooLarge extends Error {}

/** The deployments of a group that serve the endpoint without translation. */
export function nativeTargets(g: ModelGroup, endpoint: Endpoint): Target[] {
  return endpoint === 'messages' ? g.messagesTargets : endpoint === 'responses' ? g.responsesTargets : endpoint === 'embeddings' ? g.embeddingsTargets : g.chatTargets;
}

export class ProxyCall extends CallRecord {
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  private timeoutMs = 0;
  private attemptOpen = false;
  /** The group the client asked for (fallback chains are looked up by it). */
  private readonly firstGroup: ModelGroup;
  /** A passed-through stream goes out whole event by whole event (see sse-align). */
  private aligner: EventAligner | null = null;
  /** The current attempt's wire, when its deployment has one (providers/wire.ts). */
  private wire: Wire | null = null;
  /** Counts attempts, so a signature that resolves after its attempt ended is dropped. */
  private attemptSeq = 0;
  /** Set while the attempt waits for its signature (credentials being fetched). */
  private signing = false;
  /** Attempts made (retries and fallbacks included), whatever their provider. */
  private sends = 0;
  /** The first attempt's body when it lies in a worker's reused buffer: given back on proof (large-buffers.ts). */
  private lentBody: LentBody | null = null;

  constructor(
    ex: Exchange,
    snap: Snapshot,
    private readonly health: DeploymentHealth,
    group: ModelGroup,
    private targets: Target[],
    private readonly body: Buffer,
    scan: BodyScan,
    endpoint: Endpoint,
    ctx: CallContext,
  ) {
    super(ex, snap, group, scan, endpoint, ctx, body.length);
    this.firstGroup = group;
  }

  start(): void {
    this.ex.onAbort(() => this.clientGone());
    try {
      this.dispatch();
    } catch (e) {
      // Whatever went wrong, the call ends here and gives back what it holds.
      this.fail(e instanceof GatewayError ? e : new GatewayError(500, `Internal error: ${(e as Error).message}`, 'internal_server_error'));
    }
  }

  // ---- attempts ----------------------------------------------------------------------------

  private dispatch(): void {
    const r = this.snap.routing;
    const now = Date.now();
    const t = pickTarget(this.targets, this.health, now, !r.disableCooldowns, this.tried, r.strategy);
    if (!t) return this.fallBack(noDeploymentError(this.group, this.targets, r.cooldownMs));
    if (r.strategy === 'usage-based-routing' || r.strategy === 'usage-based-routing-v2') this.health.countRequest(t.slot, now);
    this.target = t;
    this.tried.push(t);
    this.sends++;
    this.xlate = Translation.needed(this.endpoint, t, this.body, this.scan, this.xlate);
    let body: AttemptBody;
    try {
      body = attemptBody(t, this.endpoint, this.body, this.scan, this.xlate, this.acct);
    } catch (e) {
      return this.fail(e instanceof GatewayError ? e : new GatewayError(500, (e as Error).message));
    }
    this.health.begin(t.slot);
    this.attemptOpen = true;
    // An earlier attempt's wire (a fallback to another provider) has no say over this one.
    this.wire = null;
    this.wireDropped = null;
    this.phase = 'waiting';
    this.status = 0;
    this.chunks = [];
    this.size = 0;
    this.controller = null;
    this.attemptStart = performance.now();
    if (this.ctx.trace && !this.ctx.trace.route) this.ctx.trace.route = this.attemptStart;
    this.timeoutMs = this.scan.stream ? t.streamTimeoutMs : t.timeoutMs;
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    // The mock and a wire get the body whole (attemptBody).
    if (t.provider === 'mock') {
      // The mock speaks chat and messages; a Responses call reaches it translated to chat.
      const asked = this.endpoint === 'messages' ? 'messages' : 'chat';
      return mockDispatch(asked, this.scan.stream, t.upstreamModel, body.whole!.length, asked === 'chat' && this.usageChunkWanted(), this);
    }
    if (t.wire) return this.dispatchWire(t as Target & { wire: WireSpec }, body.whole!);
    const path = this.endpoint === 'responses' && !this.xlate ? t.responsesPath! : this.endpoint === 'embeddings' ? t.embeddingsPath! : t.path;
    const headers = dialectHeaders(t, this.ex.headers);
    this.lentBody = sendAttempt(callPoolFor(t.origin), path, headers, body, this.body, this.sends === 1, this.xlate !== null, this);
  }

  /**
   * The attempt whose body was lent ended: normally (its answer completed, nothing more will be
   * sent) or not. Only the first may give the buffers back, and only on LentBody's proof.
   */
  private settleLent(normally: boolean): void {
    const lent = this.lentBody;
    if (lent === null) return;
    this.lentBody = null;
    if (normally) lent.answered();
    else lent.drop();
  }

  /**
   * An attempt at a deployment whose wire differs from its dialect: `body` is what the dialect
   * would send; the wire gives the path, the provider's body and the signature over it. The
   * signature waits only when credentials are being fetched; a client that left or a timeout
   * meanwhile ends the attempt, and the late signature is dropped.
   */
  private dispatchWire(t: Target & { wire: WireSpec }, dialectBody: Buffer): void {
    const seq = ++this.attemptSeq;
    let req: WireRequest;
    let signed: string[] | Promise<string[]>;
    try {
      req = wireRequest(t, dialectBody, this.scan.stream, this.ex.headers, dialectBody === this.body ? this.scan : undefined);
    } catch (e) {
      this.closeAttempt();
      return this.fail(e instanceof GatewayError ? e : new GatewayError(500, `Internal error: ${(e as Error).message}`, 'internal_server_error'));
    }
    const { wire: w, path, body, headers } = req;
    this.wire = w;
    this.wireDropped = req.dropped;
    try {
      signed = w.sign('POST', path, headers, body);
    } catch (e) {
      return this.attemptFailed(e as Error);
    }
    if (!(signed instanceof Promise)) {
      for (const h of signed) headers.push(h);
      callPoolFor(t.origin).dispatch({ path, method: 'POST', headers, body }, this);
      return;
    }
    this.signing = true;
    signed.then(
      (more) => {
        if (seq !== this.attemptSeq || !this.signing) return;
        this.signing = false;
        for (const h of more) headers.push(h);
        callPoolFor(t.origin).dispatch({ path, method: 'POST', headers, body }, this);
      },
      (e: unknown) => {
        if (seq !== this.attemptSeq || !this.signing) return;
        this.signing = false;
        this.attemptFailed(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  /**
   * Whether a chat stream made up here (the mock's, a wire's decoded one) ends with the usage chunk:
   * when the accounting or a translation reads it, or the client asked (a question about its own
   * body, the one the scan's offsets are in).
   */
  private usageChunkWanted(): boolean {
    return this.scan.stream && (this.acct !== null || this.xlate !== null || includeUsageEdit(this.body, this.scan).edit === null);
  }

  private readonly onClientDrained = (): void => {
    if (this.phase !== 'streaming') return;
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    this.controller?.resume();
  };

  private readonly onTimeout = (): void => {
    this.timer = null;
    if (this.signing) {
      // No request is out yet: the signature (a credential fetch) took the whole timeout.
      this.signing = false;
      return this.attemptFailed(new TimeoutError('timeout'));
    }
    this.controller?.abort(new TimeoutError('timeout'));
  };

  private closeAttempt(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.attemptOpen) {
      this.attemptOpen = false;
      this.health.end(this.target.slot);
    }
  }

  // ---- undici handler ----------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.ex.aborted) controller.abort(new Error('client disconnected'));
  }

  protected answerStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.answeredAt = performance.now();
    if (this.snap.routing.strategy === 'latency-based-routing') this.health.recordLatency(this.target.slot, performance.now() - this.attemptStart);
    this.headers = headers;
    if (status >= 400) {
      this.phase = 'error-body';
    } else if (this.scan.stream) {
      this.phase = 'streaming';
      this.notOverheadMs += performance.now() - this.attemptStart;
      this.streamOverheadMs = Math.max(0, performance.now() - this.ex.startedAt - this.notOverheadMs);
      // From here stream_timeout bounds the silence between chunks, as an HTTP read timeout would.
      this.timer?.refresh();
      this.acct?.startStream(this.target);
      this.xlate?.startStream();
      // Gemini's usage is read by its translator (it parses every event): accounting reads it there.
      if (this.acct) this.acct.gemini = this.xlate?.gemini ?? null;
      this.decoder = this.wire ? this.wire.decoder(this.target.dialect === 'openai' && this.usageChunkWanted()) : null;
      // Translators emit whole events by themselves.
      this.aligner = this.xlate ? null : new EventAligner();
      const h = this.responseHeaders(this.wire ? { ...headers, 'content-type': 'text/event-stream' } : headers);
      this.keyHeaders(h);
      this.ex.startStream(status, h);
    } else {
      this.phase = 'buffering';
    }
  }

  protected answerData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.phase === 'streaming') {
      this.timer?.refresh();
      if (this.decoder) {
        chunk = this.decoder.push(chunk);
        if (!chunk.length) return;
      }
      this.streamChunk(controller, chunk);
      return;
    }
    if (this.phase === 'error-body' && this.size >= MAX_ERROR_BODY) return;
    if (this.size + chunk.length > this.snap.maxResponseBytes) {
      const received = this.size + chunk.length;
      this.chunks = [];
      this.size = 0;
      this.acct?.droppedBody(received, this.target);
      controller.abort(new AnswerTooLarge(`received ${received} bytes`));
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** A chunk of the stream in the deployment's dialect, through accounting and translation: what the client gets of it. */
  private passOn(chunk: Buffer): Buffer | string {
    if (this.xlate) {
      this.acct?.pass(chunk);
      return this.xlate.push(chunk);
    }
    return this.aligner!.push(this.acct ? this.acct.pass(chunk) : chunk);
  }

  /** A chunk of the stream in the deployment's dialect, on its way to the client. */
  private streamChunk(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const out = this.passOn(chunk);
    if (out.length && !this.ex.write(out)) {
      // The client is slower than the upstream: stop reading until it drains. The upstream is
      // silent because we paused it, so that silence does not count toward stream_timeout.
      controller.pause();
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.ex.onWritable(this.onClientDrained);
    }
  }

  protected answerEnd(): void {
    this.closeAttempt();
    const phase = this.phase;
    this.phase = 'done';
    if (phase === 'streaming') {
      if (this.decoder) this.decodedTail(this.decoder.end());
      const tail = this.acct?.endStream();
      if (this.xlate) this.ex.write(this.xlate.end());
      else {
        const held = this.aligner!.end();
        if (held) this.ex.write(held);
        if (tail) this.ex.write(tail);
      }
      this.account(this.status);
      this.out.end();
      this.debugLine(this.status);
      this.settleLent(true);
    } else if (phase === 'buffering') {
      this.notOverheadMs += performance.now() - this.attemptStart;
      let raw = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      if (this.wire?.response) {
        try {
          raw = this.wire.response(raw);
        } catch (e) {
          return this.fail(new GatewayError(502, `The answer of ${describeTarget(this.target)} could not be read: ${(e as Error).message}`, 'api_error'));
        }
      }
      this.acct?.readBody(raw, this.target);
      let body: Buffer | string = raw;
      if (this.xlate) {
        try {
          body = this.xlate.response(raw);
        } catch (e) {
          return this.fail(e as GatewayError);
        }
        if (this.acct) this.acct.gemini = this.xlate.gemini;
      }
      const cost = this.account(this.status);
      const headers = this.responseHeaders(this.headers);
      if (this.acct) headers.push('x-litellm-response-cost', usdText(cost));
      this.keyHeaders(headers);
      this.out.respond(this.status, headers, body);
      this.debugLine(this.status);
      this.settleLent(true);
    } else if (phase === 'error-body') {
      // A complete answer, but the call may retry with the same body: not given back.
      this.settleLent(false);
      this.notOverheadMs += performance.now() - this.attemptStart;
      const body = Buffer.concat(this.chunks, Math.min(this.size, MAX_ERROR_BODY));
      this.upstreamFailed(fromUpstreamStatus(this.status, this.headers, body, this.target), this.status);
    }
  }

  protected answerError(_c: Dispatcher.DispatchController, err: Error): void {
    this.attemptFailed(err);
  }

  /** The last SSE bytes a wire's decoder gave at the end of a stream, through the usual path. */
  private decodedTail(rest: Buffer): void {
    if (!rest.length) return;
    const out = this.passOn(rest);
    if (out.length) this.ex.write(out);
  }

  /** The attempt failed without an answer (socket error, timeout, no signature) or mid-stream. */
  private attemptFailed(err: Error): void {
    this.settleLent(false);
    this.closeAttempt();
    const phase = this.phase;
    this.phase = 'done';
    if (this.ex.aborted || phase === 'done') return;
    if (err instanceof AnswerTooLarge) {
      const mb = this.snap.maxResponseBytes / (1024 * 1024);
      const error = new GatewayError(502, `The upstream answer of ${describeTarget(this.target)} is larger than max_response_size_mb (${mb} MB); ask for a stream or raise the limit.`, 'api_error');
      // The upstream did the work: the call is charged an estimate from what arrived.
      this.account(error.status, error, true);
      return this.fail(error);
    }
    const timedOut = err instanceof TimeoutError;
    const error = fromUpstreamFailure(err, this.target, timedOut, this.timeoutMs);
    if (phase === 'streaming') {
      // Bytes already reached the client: no retry behind its back; the stream ends with an error
      // event and the call is charged for what was produced.
      const tail = this.acct?.endStream();
      if (!this.xlate) {
        // Whole events the scanner still held go out; an event the upstream left unfinished does not.
        const whole = tail ? this.aligner!.push(tail) : null;
        if (whole?.length) this.ex.write(whole);
        this.aligner!.discard();
      }
      this.account(error.status, error);
      this.ex.write(this.xlate ? this.xlate.fail(error.message, error.status) : streamErrorEvent(this.endpoint === 'responses' ? 'responses' : this.dialect, error));
      this.out.end();
      this.debugLine(error.status, error.message);
      return;
    }
    this.notOverheadMs += performance.now() - this.attemptStart;
    this.upstreamFailed(error, timedOut ? 408 : 0);
  }

  // ---- failures, retries, cooldowns --------------------------------------------------------

  private upstreamFailed(error: GatewayError, status: number): void {
    const r = this.snap.routing;
    const t = this.target;
    const plan = retryPlan(r, status, error.message, this.firstGroup.name);
    // Context-window and content-policy errors go straight to their own fallbacks when set.
    if (plan.special !== null && !this.ex.aborted) return this.fallBack(error, plan.special);
    if (plan.retryable && !r.disableCooldowns && this.targets.length > 1) {
      const now = Date.now();
      const fails = this.health.recordFailure(t.slot, now);
      if (status === 429 || fails > r.allowedFails) {
        this.health.coolDown(t.slot, now + (t.cooldownMs ?? r.cooldownMs));
        this.ctx.metrics?.calls.cooledDown(t.slot, status);
      }
    }
    if (this.ex.aborted) return this.fail(error);
    if (!plan.retryable || this.retries >= plan.maxRetries) return worthAFallback(status) ? this.fallBack(error) : this.fail(error);
    this.retries++;
    const wait = backoffMs(this.targets, this.tried, error, this.retries);
    if (wait === 0) return this.dispatch();
    this.notOverheadMs += wait;
    // A client that leaves during the wait ends the call in clientGone (the phase is not 'done').
    this.phase = 'backoff';
    this.debugLine(error.status, `retry ${this.retries} in ${wait}ms`);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (this.phase === 'backoff') this.dispatch();
    }, wait);
  }

  /**
   * The group's own deployments are exhausted: move to its next fallback group (router_settings
   * fallbacks, else default_fallbacks), at most max_fallbacks times. No bytes have reached the
   * client yet, so this is invisible to it but for x-litellm-attempted-fallbacks.
   */
  private fallBack(error: GatewayError, special?: string[]): void {
    const r = this.snap.routing;
    const chain = special ?? this.ctx.fallbacks ?? configuredFallbacks(r, this.firstGroup);
    while (this.fallbacks < Math.min(chain.length, r.maxFallbacks)) {
      const next = resolveGroup(this.snap, chain[this.fallbacks++]!);
      if (!next || next === this.group) continue;
      const native = nativeTargets(next, this.endpoint);
      this.group = next;
      this.targets = native.length ? native : next.targets;
      this.tried = [];
      this.retries = 0;
      return this.dispatch();
    }
    this.fail(error);
  }

  private fail(error: GatewayError): void {
    this.settleLent(false);
    this.phase = 'done';
    const headers = this.litellmHeaders(['content-type', 'application/json']).concat(error.headers);
    this.keyHeaders(headers);
    this.account(error.status, error);
    this.out.respond(error.status, headers, errorBody(this.dialect, error));
    this.debugLine(error.status, error.message);
  }

  private clientGone(): void {
    if (this.phase === 'done') return;
    // Read before the abort: undici calls onResponseError synchronously, which ends the phase.
    const streamed = this.phase === 'streaming';
    this.settleLent(false);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.signing = false;
    this.controller?.abort(new Error('client disconnected'));
    this.closeAttempt();
    if (streamed) this.acct?.endStream();
    this.phase = 'done';
    // A stream the client cut is charged for what was produced before it left.
    this.account(499, new GatewayError(499, 'client disconnected', 'client_closed_request'), streamed);
    this.debugLine(499, 'client disconnected');
  }
}
