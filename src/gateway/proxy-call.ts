// One LLM call through the gateway: pick a deployment, forward the body, stream the answer back,
// and retry elsewhere when the upstream fails before anything reached the client. The object is
// its own undici dispatch handler, so a request allocates one handler and no promise chain.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { log } from '../log';
import { ANTHROPIC_DEFAULT_VERSION } from '../providers/anthropic';
import { mockDispatch } from '../providers/mock';
import type { Exchange, HeaderList } from '../server/exchange';
import type { DeploymentHealth } from '../state/deployment-health';
import { replaceModel, type BodyScan } from './body-scan';
import { errorBody, GatewayError, streamErrorEvent, type Dialect } from './errors';
import type { Identity } from './identity';
import { pickTarget } from './pick';
import type { Charge } from './policy';
import type { ModelGroup, Snapshot, Target } from './snapshot';
import { fromUpstreamFailure, fromUpstreamStatus } from './upstream-error';
import { poolFor } from './upstream-pool';

export type Endpoint = 'chat' | 'messages';

/** Upstream response headers not echoed to the client (hop-by-hop, or re-computed by us). */
const NOT_ECHOED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'content-type', 'server']);
const MAX_ERROR_BODY = 64 * 1024;
const MAX_BACKOFF_MS = 8_000;

type Phase = 'waiting' | 'streaming' | 'buffering' | 'error-body' | 'done';

class TimeoutError extends Error {}

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
  private timeoutMs = 0;
  private attemptStart = 0;
  /** Time spent waiting on upstreams (and backoff), i.e. not the gateway's own overhead. */
  private notOverheadMs = 0;
  private attemptOpen = false;
  private readonly callId = randomUUID();
  private readonly dialect: Dialect;

  constructor(
    private readonly ex: Exchange,
    private readonly snap: Snapshot,
    private readonly health: DeploymentHealth,
    private readonly group: ModelGroup,
    private readonly targets: Target[],
    private readonly body: Buffer,
    private readonly scan: BodyScan,
    private readonly endpoint: Endpoint,
    // Read by the accounting step (spend records): who is charged.
    readonly identity: Identity,
    private readonly charge: Charge | null,
  ) {
    this.dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
  }

  start(): void {
    this.ex.onAbort(() => this.clientGone());
    this.dispatch();
  }

  // ---- attempts ----------------------------------------------------------------------------

  private dispatch(): void {
    const t = pickTarget(this.targets, this.health, Date.now(), !this.snap.routing.disableCooldowns, this.tried);
    if (!t) return this.fail(this.noDeployment());
    this.target = t;
    this.tried.push(t);
    const body = t.upstreamModel === this.scan.model ? this.body : replaceModel(this.body, this.scan, t.upstreamModelJson);
    this.health.begin(t.slot);
    this.attemptOpen = true;
    this.phase = 'waiting';
    this.status = 0;
    this.chunks = [];
    this.size = 0;
    this.controller = null;
    this.attemptStart = performance.now();
    this.timeoutMs = this.scan.stream ? t.streamTimeoutMs : t.timeoutMs;
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    if (t.provider === 'mock') return mockDispatch(this.endpoint, this.scan.stream, t.upstreamModel, body.length, this);
    poolFor(t.origin).dispatch({ path: t.path, method: 'POST', headers: this.upstreamHeaders(t), body }, this);
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
    this.headers = headers;
    if (status >= 400) {
      this.phase = 'error-body';
    } else if (this.scan.stream) {
      this.phase = 'streaming';
      this.notOverheadMs += performance.now() - this.attemptStart;
      // From here stream_timeout bounds the silence between chunks, as an HTTP read timeout would.
      this.timer?.refresh();
      this.ex.startStream(status, this.responseHeaders(headers));
    } else {
      this.phase = 'buffering';
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.phase === 'streaming') {
      this.timer?.refresh();
      if (!this.ex.write(chunk)) {
        // The client is slower than the upstream: stop reading until it drains. The upstream is
        // silent because we paused it, so that silence does not count toward stream_timeout.
        controller.pause();
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.ex.onWritable(this.onClientDrained);
      }
      return;
    }
    if (this.phase === 'error-body' && this.size >= MAX_ERROR_BODY) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.closeAttempt();
    const phase = this.phase;
    this.phase = 'done';
    if (phase === 'streaming') {
      this.ex.end();
      this.finish(this.status);
    } else if (phase === 'buffering') {
      this.notOverheadMs += performance.now() - this.attemptStart;
      const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.ex.respond(this.status, this.responseHeaders(this.headers), body);
      this.finish(this.status);
    } else if (phase === 'error-body') {
      this.notOverheadMs += performance.now() - this.attemptStart;
      const body = Buffer.concat(this.chunks, Math.min(this.size, MAX_ERROR_BODY));
      this.upstreamFailed(fromUpstreamStatus(this.status, this.headers, body, this.target), this.status);
    }
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.closeAttempt();
    const phase = this.phase;
    this.phase = 'done';
    if (this.ex.aborted || phase === 'done') return;
    const timedOut = err instanceof TimeoutError;
    const error = fromUpstreamFailure(err, this.target, timedOut, this.timeoutMs);
    if (phase === 'streaming') {
      // Bytes already reached the client: no retry behind its back; end the stream with an error.
      this.ex.write(streamErrorEvent(this.dialect, error));
      this.ex.end();
      this.finish(error.status, error.message);
      return;
    }
    this.notOverheadMs += performance.now() - this.attemptStart;
    this.upstreamFailed(error, timedOut ? 408 : 0);
  }

  // ---- failures, retries, cooldowns --------------------------------------------------------

  private upstreamFailed(error: GatewayError, status: number): void {
    const r = this.snap.routing;
    const t = this.target;
    const retryable = status === 0 || status === 408 || status === 429 || status >= 500;
    if (retryable && !r.disableCooldowns && this.targets.length > 1) {
      const now = Date.now();
      const fails = this.health.recordFailure(t.slot, now);
      if (status === 429 || fails > r.allowedFails) this.health.coolDown(t.slot, now + (t.cooldownMs ?? r.cooldownMs));
    }
    if (!retryable || this.retries >= r.numRetries || this.ex.aborted) return this.fail(error);
    this.retries++;
    const wait = this.backoffMs(error);
    if (wait === 0) return this.dispatch();
    this.notOverheadMs += wait;
    setTimeout(() => {
      if (!this.ex.aborted) this.dispatch();
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
    this.ex.respond(error.status, headers, errorBody(this.dialect, error));
    this.finish(error.status, error.message);
  }

  private clientGone(): void {
    if (this.phase === 'done') return;
    this.controller?.abort(new Error('client disconnected'));
    this.closeAttempt();
    this.phase = 'done';
    this.finish(499, 'client disconnected');
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
    );
    return h;
  }

  private responseHeaders(up: IncomingHttpHeaders): HeaderList {
    const h: HeaderList = ['content-type', String(up['content-type'] ?? (this.scan.stream ? 'text/event-stream' : 'application/json'))];
    if (this.scan.stream) h.push('cache-control', 'no-cache');
    for (const name in up) {
      if (NOT_ECHOED.has(name)) continue;
      const v = up[name];
      if (v !== undefined) h.push(`llm_provider-${name}`, Array.isArray(v) ? v.join(', ') : v);
    }
    return this.litellmHeaders(h);
  }

  /** The call is over, however it ended: give back what it held on the shared counters. */
  private finish(status: number, note?: string): void {
    this.charge?.settle(0n, 0, Date.now());
    this.debugLine(status, note);
  }

  private debugLine(status: number, note?: string): void {
    if (!this.snap.detailedDebug) return;
    const ms = (performance.now() - this.ex.startedAt).toFixed(2);
    const dep = this.tried.length ? this.target.id : '-';
    log.debug(`${this.ex.method} ${this.ex.path} model=${this.group.name} deployment=${dep} status=${status} retries=${this.retries} ${ms}ms${note ? ` ${note}` : ''}`);
  }
}
