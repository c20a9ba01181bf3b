// One LLM call through the gateway: pick a deployment, forward the body, stream the answer back,
// and retry elsewhere when the upstream fails before anything reached the client. The object is
// its own undici dispatch handler, so a request allocates one handler and no promise chain.
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { log } from '../log';
import { ANTHROPIC_DEFAULT_VERSION } from '../providers/anthropic';
import { mockDispatch } from '../providers/mock';
import { liveWire, type Wire, type WireDecoder, type WireSpec } from '../providers/wire';
import type { Exchange, HeaderList } from '../server/exchange';
import type { DeploymentHealth } from '../state/deployment-health';
import { replaceModel, type BodyScan } from './body-scan';
import { newCallId } from './call-id';
import { errorBody, GatewayError, streamErrorEvent, type Dialect } from './errors';
import type { JournalWriter } from '../accounting/journal';
import { includeUsageEdit } from '../accounting/usage-include';
import { NANOS_PER_USD } from '../accounting/spend-record';
import type { EntityTable } from '../state/entity-table';
import { CallAccounting } from './accounting';
import type { Identity } from './identity';
import { configuredFallbacks, resolveGroup } from './model-groups';
import { pickTarget } from './pick';
import type { Charge } from './policy';
import { spendRecord } from './spend-record';
import { HeldEnd } from './held-end';
import { EventAligner } from './sse-align';
import { Translation } from './translation';
import { Dropped } from '../translate/dropped';
import type { ModelGroup, Snapshot, Target } from './snapshot';
import { describeTarget, fromUpstreamFailure, fromUpstreamStatus } from './upstream-error';
import { poolFor } from './upstream-pool';
import { errorClass } from './error-class';
import { keyHeaders } from './key-headers';
import { echoProviderHeaders } from './provider-headers';
import { applyParamRules } from './param-rules';
import { spendLogPromptTokens, type TokenUsage } from '../accounting/usage-types';
import type { CallTrace, WorkerMetrics } from '../metrics/recorder';

/** The client's API: OpenAI chat completions, Anthropic messages, or OpenAI Responses (Codex). */
export type Endpoint = 'chat' | 'messages' | 'responses' | 'embeddings';

/** Who the call is for and what it is charged to. */
export interface CallContext {
  identity: Identity;
  charge: Charge | null;
  endUser: string | null;
  /** The worker's spend journal, when a database is configured. */
  journal: JournalWriter | null;
  entities: EntityTable | null;
  /** The client's own `fallbacks` ([] for `disable_fallbacks`), replacing the configured chain; null: none sent. */
  fallbacks: string[] | null;
  /** The worker's metrics (null: not counted, as in tests that build a call alone). */
  metrics?: WorkerMetrics | null;
  /** Phase times when the call is traced, else null. */
  trace?: CallTrace | null;
}

const MAX_ERROR_BODY = 64 * 1024;
/** 4xx answers that say the deployment is at fault (bad upstream key, model not found there): worth a fallback. */
const DEPLOYMENT_SIDE = new Set([401, 403, 404]);
const MAX_BACKOFF_MS = 8_000;

/** `backoff`: between a failed attempt and the retry; the client may leave while we wait. */
type Phase = 'waiting' | 'streaming' | 'buffering' | 'error-body' | 'backoff' | 'done';

class TimeoutError extends Error {}
/** A non-streamed answer passed max_response_size_mb: the call ends, it is not retried. */
class AnswerTooLarge extends Error {}

/** The deployments of a group that serve the endpoint without translation. */
export function nativeTargets(g: ModelGroup, endpoint: Endpoint): Target[] {
  return endpoint === 'messages' ? g.messagesTargets : endpoint === 'responses' ? g.responsesTargets : endpoint === 'embeddings' ? g.embeddingsTargets : g.chatTargets;
}

export class ProxyCall implements Dispatcher.DispatchHandler {
  private target!: Target;
  private tried: Target[] = [];
  private retries = 0;
  private phase: Phase = 'waiting';
  private controller: Dispatcher.DispatchController | null = null;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  private timeoutMs = 0;
  private attemptStart = 0;
  /** Time spent waiting on upstreams (and backoff), i.e. not the gateway's own overhead. */
  private notOverheadMs = 0;
  private attemptOpen = false;
  private readonly callId = newCallId();
  /** The group the client asked for (fallback chains are looked up by it). */
  private readonly firstGroup: ModelGroup;
  private fallbacks = 0;
  private readonly startMs = Date.now();
  private readonly dialect: Dialect;
  private readonly acct: CallAccounting | null = null;
  /** Set while the current attempt goes to a deployment of the other dialect. */
  private xlate: Translation | null = null;
  /** A passed-through stream goes out whole event by whole event (see sse-align). */
  private aligner: EventAligner | null = null;
  private accounted = false;
  /** The current attempt's wire, when its deployment has one (providers/wire.ts). */
  private wire: Wire | null = null;
  /** Turns the current stream's framing into SSE (a wire whose provider does not stream SSE). */
  private decoder: WireDecoder | null = null;
  /** Counts attempts, so a signature that resolves after its attempt ended is dropped. */
  private attemptSeq = 0;
  /** Set while the attempt waits for its signature (credentials being fetched). */
  private signing = false;
  /** What the current attempt's wire left out of the body (named in x-weir-dropped), or null. */
  private wireDropped: Dropped | null = null;
  /** performance.now() when the answer that reached the client began (0: none yet). */
  private answeredAt = 0;
  /** The gateway's own time, fixed when a stream starts (what follows is the upstream's pace). */
  private streamOverheadMs = -1;
  /** The answer's end, held until the journal has the call's record (null: no journal). */
  private held: HeldEnd | null = null;

  constructor(
    private readonly ex: Exchange,
    private readonly snap: Snapshot,
    private readonly health: DeploymentHealth,
    private group: ModelGroup,
    private targets: Target[],
    private readonly body: Buffer,
    private readonly scan: BodyScan,
    private readonly endpoint: Endpoint,
    private readonly ctx: CallContext,
  ) {
    this.dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
    this.firstGroup = group;
    if (ctx.journal || ctx.charge || snap.metrics.usage) {
      this.acct = new CallAccounting(scan.stream && endpoint === 'chat', body.length);
      this.acct.anthropic = endpoint === 'messages';
    }
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
    if (!t) return this.fallBack(this.noDeployment());
    if (r.strategy === 'usage-based-routing' || r.strategy === 'usage-based-routing-v2') this.health.countRequest(t.slot, now);
    this.target = t;
    this.tried.push(t);
    this.xlate = Translation.needed(this.endpoint, t, this.body, this.scan.depth, this.xlate);
    let body: Buffer;
    if (this.xlate) {
      try {
        body = this.xlate.request(t);
      } catch (e) {
        return this.fail(e instanceof GatewayError ? e : new GatewayError(500, (e as Error).message));
      }
      this.acct?.translated();
    } else {
      // A wire puts the model where its provider wants it (the path): the client's stays in the body it maps.
      body = this.acct ? this.acct.body(this.body, this.scan, t) : t.upstreamModel === this.scan.model || t.wire ? this.body : replaceModel(this.body, this.scan, t.upstreamModelJson);
    }
    if (t.paramRules && this.endpoint !== 'embeddings') {
      try {
        // A chat body (the client's, or a translation's): the provider's parameter rules.
        body = applyParamRules(body, t.paramRules, t.provider, t.upstreamModel, this.xlate !== null);
      } catch (e) {
        return this.fail(e instanceof GatewayError ? e : new GatewayError(500, (e as Error).message));
      }
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
    if (t.provider === 'mock') {
      // The mock speaks chat and messages; a Responses call reaches it translated to chat.
      const asked = this.endpoint === 'messages' ? 'messages' : 'chat';
      return mockDispatch(asked, this.scan.stream, t.upstreamModel, body.length, asked === 'chat' && this.usageChunkWanted(), this);
    }
    if (t.wire) return this.dispatchWire(t as Target & { wire: WireSpec }, body);
    const path = this.endpoint === 'responses' && !this.xlate ? t.responsesPath! : this.endpoint === 'embeddings' ? t.embeddingsPath! : t.path;
    poolFor(t.origin).dispatch({ path, method: 'POST', headers: this.upstreamHeaders(t), body }, this);
  }

  /**
   * An attempt at a deployment whose wire differs from its dialect: `body` is what the dialect
   * would send; the wire gives the path, the provider's body and the signature over it. The
   * signature waits only when credentials are being fetched; a client that left or a timeout
   * meanwhile ends the attempt, and the late signature is dropped.
   */
  private dispatchWire(t: Target & { wire: WireSpec }, dialectBody: Buffer): void {
    const seq = ++this.attemptSeq;
    let w: Wire;
    let path: string;
    let body: Buffer | Buffer[];
    let signed: string[] | Promise<string[]>;
    let headers: string[];
    try {
      w = this.wire = liveWire(t);
      path = w.path(this.scan.stream);
      const dropped = new Dropped();
      body = w.body(dialectBody, this.scan.stream, this.ex.headers, dropped, dialectBody === this.body ? this.scan : undefined);
      this.wireDropped = dropped.empty ? null : dropped;
      headers = w.dialectHeaders ? this.upstreamHeaders(t) : t.headers.concat('content-type', 'application/json', 'accept-encoding', 'identity');
      if (Array.isArray(body)) {
        // Pieces go out as they are (views of the client's body): undici writes them under this length.
        let length = 0;
        for (const part of body) length += part.length;
        headers.push('content-length', String(length));
      }
    } catch (e) {
      this.closeAttempt();
      return this.fail(e instanceof GatewayError ? e : new GatewayError(500, `Internal error: ${(e as Error).message}`, 'internal_server_error'));
    }
    try {
      signed = w.sign('POST', path, headers, body);
    } catch (e) {
      return this.attemptFailed(e as Error);
    }
    // undici sends an iterable body (the pieces) though its types name only whole ones.
    const sent = body as Buffer;
    if (!(signed instanceof Promise)) {
      for (const h of signed) headers.push(h);
      poolFor(t.origin).dispatch({ path, method: 'POST', headers, body: sent }, this);
      return;
    }
    this.signing = true;
    signed.then(
      (more) => {
        if (seq !== this.attemptSeq || !this.signing) return;
        this.signing = false;
        for (const h of more) headers.push(h);
        poolFor(t.origin).dispatch({ path, method: 'POST', headers, body: sent }, this);
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

  private upstreamHeaders(t: Target): string[] {
    const h = t.headers.concat('content-type', 'application/json', 'accept-encoding', 'identity');
    if (t.dialect === 'anthropic') {
      h.push('anthropic-version', this.ex.headers['anthropic-version'] || ANTHROPIC_DEFAULT_VERSION);
      const beta = this.ex.headers['anthropic-beta'];
      if (beta) h.push('anthropic-beta', beta);
    }
    return h;
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

  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
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

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
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

  onResponseEnd(): void {
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
      if (this.acct) headers.push('x-litellm-response-cost', String(cost / NANOS_PER_USD));
      this.keyHeaders(headers);
      this.out.respond(this.status, headers, body);
      this.debugLine(this.status);
    } else if (phase === 'error-body') {
      this.notOverheadMs += performance.now() - this.attemptStart;
      const body = Buffer.concat(this.chunks, Math.min(this.size, MAX_ERROR_BODY));
      this.upstreamFailed(fromUpstreamStatus(this.status, this.headers, body, this.target), this.status);
    }
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
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
    const kind = errorClass(status, error.message);
    // Context-window and content-policy errors go straight to their own fallbacks when set.
    const special = kind === 'ContextWindowExceededError' ? r.contextWindowFallbacks : kind === 'ContentPolicyViolationError' ? r.contentPolicyFallbacks : null;
    if (special?.has(this.firstGroup.name) && !this.ex.aborted) return this.fallBack(error, special.get(this.firstGroup.name)!);
    const policy = r.retryPolicy[kind];
    const retryable = policy !== undefined ? policy > 0 : status === 0 || status === 408 || status === 429 || status >= 500;
    const maxRetries = policy ?? r.numRetries;
    if (retryable && !r.disableCooldowns && this.targets.length > 1) {
      const now = Date.now();
      const fails = this.health.recordFailure(t.slot, now);
      if (status === 429 || fails > r.allowedFails) {
        this.health.coolDown(t.slot, now + (t.cooldownMs ?? r.cooldownMs));
        this.ctx.metrics?.calls.cooledDown(t.slot, status);
      }
    }
    if (this.ex.aborted) return this.fail(error);
    if (!retryable || this.retries >= maxRetries) return status >= 400 && status < 500 && status !== 429 && status !== 408 && !DEPLOYMENT_SIDE.has(status) ? this.fail(error) : this.fallBack(error);
    this.retries++;
    const wait = this.backoffMs(error);
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

  /** LiteLLM's rule: no wait when another deployment can take the retry, else exponential backoff honouring retry-after. */
  private backoffMs(error: GatewayError): number {
    const others = this.targets.some((t) => !this.tried.includes(t) && t.unavailable === null);
    if (others) return 0;
    const idx = error.headers.indexOf('retry-after');
    const retryAfter = idx >= 0 ? Number(error.headers[idx + 1]) : NaN;
    if (retryAfter > 0 && retryAfter <= 60) return retryAfter * 1000;
    return Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.retries - 1));
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

  private noDeployment(): GatewayError {
    const reasons = this.targets.map((t) => t.unavailable).filter((r): r is string => r !== null);
    if (reasons.length === this.targets.length) {
      return new GatewayError(503, `No usable deployment for model=${this.group.name}: ${reasons[0]}`, 'service_unavailable_error');
    }
    const cooldownS = Math.ceil(this.snap.routing.cooldownMs / 1000);
    return new GatewayError(
      429,
      `No deployments available for selected model, Try again in ${cooldownS} seconds. Passed model=${this.group.name}`,
      'rate_limit_error',
      null,
      ['retry-after', String(cooldownS)],
    );
  }

  private fail(error: GatewayError): void {
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

  // ---- response headers and logs -----------------------------------------------------------

  private litellmHeaders(h: HeaderList): HeaderList {
    const total = performance.now() - this.ex.startedAt;
    const t = this.target as Target | undefined;
    h.push('x-litellm-call-id', this.callId, 'x-litellm-model-group', this.group.name);
    if (t) h.push('x-litellm-model-id', t.id, 'x-litellm-model-api-base', t.apiBase);
    h.push(
      'x-litellm-response-duration-ms',
      total.toFixed(3),
      'x-litellm-overhead-duration-ms',
      Math.max(0, total - this.notOverheadMs).toFixed(3),
      'x-litellm-attempted-retries',
      String(this.retries),
      'x-litellm-attempted-fallbacks',
      String(this.fallbacks),
    );
    return h;
  }

  private responseHeaders(up: IncomingHttpHeaders): HeaderList {
    // A decoded stream is SSE whatever the provider's framing was called.
    const h: HeaderList = ['content-type', this.decoder ? 'text/event-stream' : String(up['content-type'] ?? (this.scan.stream ? 'text/event-stream' : 'application/json'))];
    if (this.scan.stream) h.push('cache-control', 'no-cache');
    echoProviderHeaders(h, up, this.target);
    this.xlate?.noticeHeaders(h);
    if (this.wireDropped) addDropped(h, this.wireDropped);
    return this.litellmHeaders(h);
  }

  /**
   * The call is over, however it ended: settle what it held on the shared counters and stage its
   * spend record in the journal; the answer's end (this.out) then waits for the turn's write.
   * Returns the cost in nano-dollars.
   */
  private account(status: number, error?: GatewayError, produced = status < 400): number {
    if (this.accounted) return 0;
    this.accounted = true;
    if (!this.acct) {
      this.observe(status, null, 0);
      return 0;
    }
    const now = Date.now();
    const t = this.tried.length ? this.target : undefined;
    const usage = produced || this.phase === 'streaming' ? this.acct.usage() : null;
    const cost = usage ? this.acct.costNanos(t, usage) : 0;
    const tokens = usage ? usage.prompt_tokens + usage.completion_tokens : 0;
    this.ctx.charge?.settle(BigInt(cost), tokens, now);
    const journal = this.ctx.journal;
    if (journal) {
      const held = (this.held = new HeldEnd(this.ex));
      held.hold();
      journal.stage(
        spendRecord({
          callId: this.callId,
          responseId: this.acct.responseId,
          endpoint: this.endpoint,
          identity: this.ctx.identity,
          endUser: this.ctx.endUser,
          headers: this.ex.headers,
          group: this.group.name,
          target: t,
          usage,
          costNanos: cost,
          startMs: this.startMs,
          endMs: now,
          firstByteMs: this.acct.firstByteMs || now,
          overheadMs: this.overheadMs(performance.now()),
          retries: this.retries,
          error: error && status >= 400 ? { status, message: error.message, type: error.type } : undefined,
        }),
        held,
      );
    }
    this.observe(status, usage, cost);
    return cost;
  }

  /** Where the answer's last act goes: held for the journal's write when the call was journaled. */
  private get out(): Pick<Exchange, 'end' | 'respond'> {
    return this.held ?? this.ex;
  }

  /**
   * Weir's own share of the call: for a stream, what it took until the stream started (the rest is
   * the upstream's pace); otherwise the whole call less the time spent waiting on upstreams. The
   * spend log and the metrics read the same figure.
   */
  private overheadMs(now: number): number {
    return this.streamOverheadMs >= 0 ? this.streamOverheadMs : Math.max(0, now - this.ex.startedAt - this.notOverheadMs);
  }

  /** Counts the call in the worker's metrics row, and hands its phases over when it is traced. */
  private observe(status: number, usage: TokenUsage | null, costNanos: number): void {
    const m = this.ctx.metrics;
    if (!m) return;
    const now = performance.now();
    const totalMs = now - this.ex.startedAt;
    const t = this.tried.length ? this.target : undefined;
    const overheadMs = this.overheadMs(now);
    const row = m.calls.rowFor(this.ctx.identity, this.ctx.endUser, this.scan.model ?? '', this.group.name, t);
    m.calls.call(row, {
      status,
      totalS: totalMs / 1000,
      apiS: t ? Math.max(0, totalMs - overheadMs) / 1000 : -1,
      ttftS: this.scan.stream && this.streamOverheadMs >= 0 ? (this.answeredAt - this.attemptStart) / 1000 : -1,
      overheadS: overheadMs / 1000,
      spendUsd: costNanos / NANOS_PER_USD,
      inputTokens: usage ? spendLogPromptTokens(usage) : 0,
      outputTokens: usage ? usage.completion_tokens : 0,
      cachedTokens: usage ? usage.cache_read_input_tokens : 0,
      fallbacks: this.fallbacks,
    });
    const tr = this.ctx.trace;
    if (tr) {
      const o = m.spans.origin;
      m.spans.add({
        name: `${this.ex.method} ${this.ex.path}`,
        start: o + this.ex.startedAt,
        authEnd: tr.auth ? o + tr.auth : 0,
        routeEnd: tr.route ? o + tr.route : 0,
        firstByte: this.answeredAt ? o + this.answeredAt : 0,
        end: o + now,
        status,
        stream: this.scan.stream,
        attributes: {
          'weir.call_id': this.callId,
          'gen_ai.request.model': this.scan.model ?? '',
          'weir.model_group': this.group.name,
          'weir.model_id': t?.id ?? '',
          'gen_ai.system': t?.provider ?? '',
          'weir.retries': this.retries,
          'weir.fallbacks': this.fallbacks,
          'gen_ai.usage.input_tokens': usage ? spendLogPromptTokens(usage) : 0,
          'gen_ai.usage.output_tokens': usage ? usage.completion_tokens : 0,
        },
      });
    }
  }

  /** x-litellm-key-* headers for a virtual key (known before the body is sent). */
  private keyHeaders(h: HeaderList): void {
    if (this.ctx.identity.kind === 'key' && this.ctx.entities) keyHeaders(h, this.ctx.identity.profile, this.ctx.entities);
  }

  private debugLine(status: number, note?: string): void {
    if (!this.snap.detailedDebug) return;
    const ms = (performance.now() - this.ex.startedAt).toFixed(2);
    const dep = this.tried.length ? this.target.id : '-';
    log.debug(`${this.ex.method} ${this.ex.path} model=${this.group.name} deployment=${dep} status=${status} retries=${this.retries} ${ms}ms${note ? ` ${note}` : ''}`);
  }
}

/** The wire's notices joined to the translation's (one x-weir-dropped and one x-weir-dropped-tools header). */
function addDropped(h: HeaderList, d: Dropped): void {
  join(h, 'x-weir-dropped', d.items, '; ');
  join(h, 'x-weir-dropped-tools', d.tools, ', ');
}

function join(h: HeaderList, name: string, value: string | null, sep: string): void {
  if (value === null) return;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] === name) {
      h[i + 1] = `${h[i + 1]}${sep}${value}`;
      return;
    }
  }
  h.push(name, value);
}
