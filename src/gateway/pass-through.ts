// Provider pass-through routes (LiteLLM's /anthropic/*, /openai/* and /bedrock/*): the caller
// authenticates with a Weir key, the rest of the path goes to the provider's base URL with the
// provider credentials from the environment (for Bedrock, a SigV4 signature made here; the
// client's own is dropped), and the answer streams back untouched. For the LLM routes (see
// pass-through-route.ts) the call is governed like any other: the caller's charge is settled from
// the usage read out of the answer as it passes (Bedrock's event-stream frames are decoded on the
// side for it), and the call writes its spend record.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { JournalWriter } from '../accounting/journal';
import type { Exchange, HeaderList } from '../server/exchange';
import type { Price } from '../pricing/cost';
import type { CallAccounting } from './accounting';
import type { BodyScan } from './body-scan';
import { newCallId } from './call-id';
import { errorBody, GatewayError, streamErrorEvent } from './errors';
import type { Identity } from './identity';
import type { PassThroughProvider, PassThroughRoute } from './pass-through-route';
import type { Charge } from './policy';
import type { Endpoint } from './proxy-call';
import type { Target } from './snapshot';
import { spendRecord } from './spend-record';
import { HeldEnd } from './held-end';
import { NANOS_PER_USD } from '../accounting/spend-record';
import { spendLogPromptTokens } from '../accounting/usage-types';
import type { WorkerMetrics } from '../metrics/recorder';
import { EventAligner } from './sse-align';
import { callPoolFor } from './upstream-pool';
import { UpstreamAnswer } from './upstream-answer';
import { parseBaseUrl, withQuery } from '../providers/base-url';
import type { WireDecoder } from '../providers/wire';
import type { UpstreamDialect } from '../providers/target';
import { GeminiToChatStream } from '../translate/gemini-stream';

/** Where a provider's pass-through calls go, and the operator's credentials for it. */
export interface ProviderBase {
  origin: string;
  basePath: string;
  /** The base URL's own query string (sent on every path), '' for none. */
  query: string;
  /** The base URL with its credentials masked, for spend logs. */
  apiBase: string;
  auth: string[];
  /** Per-request authentication over the body (Bedrock's SigV4): headers to add. */
  sign?: (method: string, path: string, headers: readonly string[], body: Buffer | undefined) => Promise<string[]>;
}

export function providerBase(provider: 'anthropic' | 'openai', env: NodeJS.ProcessEnv): ProviderBase {
  const anthropic = provider === 'anthropic';
  const key = anthropic ? env.ANTHROPIC_API_KEY : env.OPENAI_API_KEY;
  const base = parseBaseUrl(anthropic ? (env.ANTHROPIC_API_BASE ?? 'https://api.anthropic.com') : (env.OPENAI_API_BASE ?? 'https://api.openai.com'));
  const auth = key ? (anthropic ? ['x-api-key', key] : ['authorization', `Bearer ${key}`]) : [];
  // Credentials in the base URL go as the Basic authorization they imply, unless the key takes that header.
  if (base.basicAuth && !auth.includes('authorization')) auth.push('authorization', base.basicAuth);
  return { origin: base.origin, basePath: base.basePath, query: base.query, apiBase: base.shown, auth };
}

/**
 * Request headers never forwarded: hop-by-hop headers (RFC 9110 §7.6.1, and any the Connection
 * header names), every header a Weir key may have been read from, cookies and proxy credentials,
 * and what undici computes itself. `expect` too: the gateway already answered 100-continue.
 */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'content-length',
  'accept-encoding',
  'proxy-authorization',
  'proxy-authenticate',
  'cookie',
  'authorization',
  'x-api-key',
  'api-key',
  'x-litellm-api-key',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
]);
const NOT_RETURNED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'date', 'server', 'set-cookie', 'proxy-authenticate', 'upgrade', 'trailer']);

/**
 * The client's headers that may go to the provider: nothing a Weir key or the hop used, and for a
 * provider Weir signs for, nothing of the client's own signature (`x-amz-*`).
 */
export function forwardedHeaders(h: Record<string, string>, customKeyHeader: string | null, signed = false): string[] {
  const named = h['connection']?.toLowerCase().split(',').map((s) => s.trim()) ?? [];
  const out: string[] = [];
  for (const k in h) {
    if (NOT_FORWARDED.has(k) || k === customKeyHeader || named.includes(k)) continue;
    if (signed && k.startsWith('x-amz-')) continue;
    out.push(k, h[k]!);
  }
  return out;
}

/** What a governed (LLM) pass-through call settles and records when it ends. */
export interface PassThroughBilling {
  acct: CallAccounting;
  charge: Charge | null;
  journal: JournalWriter | null;
  identity: Identity;
  endUser: string | null;
  endpoint: Endpoint;
  /** Stands for the provider and model in the spend record and prices the usage. */
  target: Target;
  scan: BodyScan;
  /**
   * For an answer in another framing than the dialect's (Bedrock's event stream, Converse's
   * JSON): how to read it as the dialect, on the side, for its usage. The client gets the bytes as they came.
   */
  decode?: { stream(): WireDecoder; whole?(raw: Buffer): Buffer };
  /** The worker's metrics: the call is counted when it ends. */
  metrics?: WorkerMetrics | null;
}

/**
 * Gemini answers (Vertex's google publisher) carry usageMetadata, which no byte scanner reads: the
 * stream goes through the Gemini reader (its output dropped) and a whole answer is parsed once.
 */
function geminiUsageOf(body: Buffer): { usageMetadata: Record<string, unknown> | undefined; responseId: string | undefined } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { usageMetadata?: Record<string, unknown>; responseId?: unknown };
    return { usageMetadata: parsed.usageMetadata, responseId: typeof parsed.responseId === 'string' ? parsed.responseId : undefined };
  } catch {
    return { usageMetadata: undefined, responseId: undefined };
  }
}

/**
 * A stand-in deployment for a pass-through call: the provider, the model the body names and the
 * table's price for it (the spend record and the cost calculation read these).
 */
export function passThroughTarget(provider: PassThroughProvider, model: string, price: Price, base: ProviderBase, dialect: UpstreamDialect = provider === 'openai' ? 'openai' : 'anthropic'): Target {
  return {
    id: `${provider}-pass-through`,
    slot: -1,
    group: model,
    provider,
    dialect,
    upstreamModel: model,
    upstreamModelJson: JSON.stringify(model),
    origin: base.origin,
    path: '',
    responsesPath: null,
    embeddingsPath: null,
    apiBase: base.apiBase,
    headers: [],
    secrets: [],
    unavailable: null,
    timeoutMs: 0,
    streamTimeoutMs: 0,
    weight: 1,
    rpm: 0,
    tpm: 0,
    order: 0,
    cooldownMs: null,
    price,
  };
}

/** Non-streamed answers are copied for their usage up to this size; past it the usage is estimated. */
const MAX_USAGE_COPY = 16 * 1024 * 1024;

class TimeoutError extends Error {}

class PassThroughCall extends UpstreamAnswer {
  private started = false;
  private status = 0;
  /** Set for an SSE answer: forwarded whole event by whole event (see sse-align). */
  private aligner: EventAligner | null = null;
  /** Set for an answer in another stream framing: decoded on the side for its usage (billing.decode). */
  private side: WireDecoder | null = null;
  private copy: Buffer[] | null = null;
  private copied = 0;
  /** A Gemini stream being billed: read for its usage only. */
  private geminiReader: GeminiToChatStream | null = null;
  private done = false;
  /** The answer's end, held until the journal has the call's record (null: no journal). */
  private held: HeldEnd | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly callId = newCallId();
  private readonly startMs = Date.now();

  constructor(
    private readonly ex: Exchange,
    private readonly route: PassThroughRoute,
    private readonly billing: PassThroughBilling | null,
    private readonly timeoutMs: number,
  ) {
    super();
  }

  start(dispatch: () => void): void {
    this.ex.onAbort(() => this.clientGone());
    this.timer = setTimeout(() => this.controller?.abort(new TimeoutError(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    try {
      dispatch();
    } catch (e) {
      // No request exists (undici refused the origin): the caller answers the error, and an armed
      // watchdog would hold this call until it fired.
      clearTimeout(this.timer);
      this.timer = null;
      throw e;
    }
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    if (this.ex.aborted) c.abort(new Error('client disconnected'));
  }

  protected answerStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.timer?.refresh();
    const h: HeaderList = [];
    for (const name in headers) {
      const v = headers[name];
      if (v !== undefined && !NOT_RETURNED.has(name)) h.push(name, Array.isArray(v) ? v.join(', ') : v);
    }
    const sse = String(headers['content-type'] ?? '').startsWith('text/event-stream');
    if (sse) this.aligner = new EventAligner();
    const b = this.billing;
    if (b && status < 400) {
      if (!sse && b.decode && String(headers['content-type'] ?? '').startsWith('application/vnd.amazon.eventstream')) this.side = b.decode.stream();
      if (sse || this.side) b.acct.startStream(b.target);
      else this.copy = [];
      if (sse && b.target.dialect === 'gemini') b.acct.gemini = this.geminiReader = new GeminiToChatStream({ model: b.target.upstreamModel });
    }
    this.started = true;
    this.ex.startStream(status, h);
  }

  protected answerData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.timer?.refresh();
    let out: Buffer = chunk;
    if (this.billing && this.aligner && this.status < 400) out = this.billing.acct.pass(chunk);
    else if (this.side) {
      const decoded = this.side.push(chunk);
      if (decoded.length) this.billing!.acct.pass(decoded);
    }
    this.geminiReader?.push(chunk);
    if (this.copy && this.copied + chunk.length <= MAX_USAGE_COPY) {
      this.copy.push(chunk);
      this.copied += chunk.length;
    }
    if (this.aligner) out = this.aligner.push(out);
    if (out.length && !this.ex.write(out)) {
      c.pause();
      this.ex.onWritable(() => c.resume());
    }
  }

  protected answerEnd(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.side) {
      const rest = this.side.end();
      if (rest.length) this.billing!.acct.pass(rest);
      this.billing!.acct.endStream();
    }
    const tail = this.billing && this.aligner && this.status < 400 ? this.billing.acct.endStream() : null;
    const held = this.aligner ? (tail ? this.aligner.push(tail) : null) : null;
    if (held?.length) this.ex.write(held);
    const rest = this.aligner?.end();
    if (rest) this.ex.write(rest);
    this.geminiReader?.end();
    if (this.copy && this.billing) {
      const raw = Buffer.concat(this.copy, this.copied);
      const whole = this.billing.decode?.whole;
      let read: Buffer = raw;
      try {
        if (whole) read = whole(raw);
      } catch {
        // Not the answer its framing says: its usage is estimated from its size.
      }
      this.billing.acct.readBody(read, this.billing.target);
      if (this.billing.target.dialect === 'gemini') this.billing.acct.gemini = geminiUsageOf(read);
    }
    this.account(this.status, this.status >= 400 ? new GatewayError(this.status, `pass-through upstream answered ${this.status}`, 'upstream_error') : undefined);
    this.out.end();
  }

  protected answerError(_c: Dispatcher.DispatchController | null, err: Error): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.ex.aborted) return;
    const timedOut = err instanceof TimeoutError;
    const error = new GatewayError(timedOut ? 408 : 502, `pass-through upstream failed: ${err.message}`, timedOut ? 'timeout_error' : 'api_connection_error');
    if (this.billing && (this.aligner || this.side)) this.billing.acct.endStream();
    this.account(error.status, error, this.started && (this.aligner !== null || this.side !== null));
    if (!this.started) {
      this.out.respond(error.status, ['content-type', 'application/json'], errorBody(this.route.streamDialect === 'anthropic' ? 'anthropic' : 'openai', error));
    } else if (this.aligner) {
      // The status line is out: a stream ends in an error event of its own framing, after its last whole event.
      this.aligner.discard();
      this.ex.write(streamErrorEvent(this.route.streamDialect, error));
      this.out.end();
    } else {
      // A plain body cut midway: the client must see it cut, not complete.
      this.out.destroy();
    }
  }

  private clientGone(): void {
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort(new Error('client disconnected'));
    const streamed = this.started && (this.aligner !== null || this.side !== null);
    if (this.billing && streamed) this.billing.acct.endStream();
    this.account(499, new GatewayError(499, 'client disconnected', 'client_closed_request'), streamed);
  }

  /** Where the answer's last act goes: held for the journal's write when the call was journaled. */
  private get out(): Pick<Exchange, 'end' | 'respond' | 'destroy'> {
    return this.held ?? this.ex;
  }

  /** Settles the charge and stages the spend record (the answer's end waits for its write), once, however the call ended. */
  private account(status: number, error?: GatewayError, produced = status < 400): void {
    if (this.done) return;
    this.done = true;
    const b = this.billing;
    if (!b) return;
    const now = Date.now();
    const usage = produced ? b.acct.usage() : null;
    const cost = usage ? b.acct.costNanos(b.target, usage) : 0;
    b.charge?.settle(BigInt(cost), usage ? usage.prompt_tokens + usage.completion_tokens : 0, now);
    if (b.journal) {
      const held = (this.held = new HeldEnd(this.ex));
      held.hold();
      b.journal.stage(
        spendRecord({
          callId: this.callId,
          responseId: b.acct.responseId,
          endpoint: b.endpoint,
          callType: 'pass_through_endpoint',
          identity: b.identity,
          endUser: b.endUser,
          headers: this.ex.headers,
          group: b.target.upstreamModel,
          target: b.target,
          usage,
          costNanos: cost,
          startMs: this.startMs,
          endMs: now,
          firstByteMs: b.acct.firstByteMs || now,
          overheadMs: 0,
          retries: 0,
          error: error && status >= 400 ? { status, message: error.message, type: error.type } : undefined,
        }),
        held,
      );
    }
    const m = b.metrics;
    if (m) {
      // The upstream's time is not told apart from the gateway's here: no overhead observation.
      const totalS = (performance.now() - this.ex.startedAt) / 1000;
      const row = m.calls.rowFor(b.identity, b.endUser, b.scan.model ?? b.target.upstreamModel, b.target.upstreamModel, b.target);
      m.calls.call(row, {
        status,
        totalS,
        apiS: totalS,
        ttftS: -1,
        overheadS: -1,
        spendUsd: cost / NANOS_PER_USD,
        inputTokens: usage ? spendLogPromptTokens(usage) : 0,
        outputTokens: usage ? usage.completion_tokens : 0,
        cachedTokens: usage ? usage.cache_read_input_tokens : 0,
        fallbacks: 0,
      });
    }
  }
}

/**
 * Forwards the request to the provider. `billing` is set for governed LLM calls; `body` is what
 * goes upstream (for governed chat streams, with stream_options.include_usage added).
 */
export function passThrough(ex: Exchange, route: PassThroughRoute, base: ProviderBase, body: Buffer | null, opts: { customKeyHeader: string | null; timeoutMs: number; billing: PassThroughBilling | null }): void {
  const headers = forwardedHeaders(ex.headers, opts.customKeyHeader, base.sign !== undefined);
  headers.push(...base.auth);
  const path = withQuery(`${base.basePath}${route.rest}${ex.query ? `?${ex.query}` : ''}`, base.query);
  const call = new PassThroughCall(ex, route, opts.billing, opts.timeoutMs);
  const sent = body && body.length ? body : null;
  const send = () => callPoolFor(base.origin).dispatch({ path, method: ex.method, headers, body: sent }, call);
  const sign = base.sign;
  if (!sign) return call.start(send);
  call.start(() => {
    if (!headers.includes('content-type') && sent) headers.push('content-type', 'application/json');
    sign(ex.method, path, headers, sent ?? undefined).then(
      (more) => {
        if (ex.aborted) return;
        for (const h of more) headers.push(h);
        send();
      },
      (e: unknown) => call.onResponseError(null as unknown as Dispatcher.DispatchController, e instanceof Error ? e : new Error(String(e))),
    );
  });
}
