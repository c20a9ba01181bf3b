// What a call through the gateway records, however its attempts went: the x-litellm-* headers of
// its answer, the spend record staged in the journal (the answer's end held for its write), the
// worker's metrics row and the call's trace span. ProxyCall (proxy-call.ts) extends it with the
// attempts themselves; the state both read lives here, so the call stays one object per request
// (for the same reason it is itself an UpstreamAnswer, the handler base that decodes compressed
// answers).
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { log } from '../log';
import type { WireDecoder } from '../providers/wire';
import type { Exchange, HeaderList } from '../server/exchange';
import type { BodyScan } from './body-scan';
import { newCallId } from './call-id';
import type { Dialect, GatewayError } from './errors';
import type { JournalWriter } from '../accounting/journal';
import { NANOS_PER_USD } from '../accounting/spend-record';
import type { EntityTable } from '../state/entity-table';
import { CallAccounting } from './accounting';
import type { Identity } from './identity';
import type { Charge } from './policy';
import { spendRecord } from './spend-record';
import { HeldEnd } from './held-end';
import { UpstreamAnswer } from './upstream-answer';
import type { Translation } from './translation';
import type { Dropped } from '../translate/dropped';
import type { ModelGroup, Snapshot, Target } from './snapshot';
import { keyHeaders } from './key-headers';
import { echoProviderHeaders } from './provider-headers';
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

/** `backoff`: between a failed attempt and the retry; the client may leave while we wait. */
export type Phase = 'waiting' | 'streaming' | 'buffering' | 'error-body' | 'backoff' | 'done';

export abstract class CallRecord extends UpstreamAnswer {
  /** The deployment of the current (or last) attempt; unset until the first is picked. */
  protected target!: Target;
  protected tried: Target[] = [];
  protected retries = 0;
  protected fallbacks = 0;
  protected phase: Phase = 'waiting';
  protected readonly callId = newCallId();
  protected readonly startMs = Date.now();
  protected readonly dialect: Dialect;
  protected readonly acct: CallAccounting | null = null;
  /** Set while the current attempt goes to a deployment of the other dialect. */
  protected xlate: Translation | null = null;
  /** Turns the current stream's framing into SSE (a wire whose provider does not stream SSE). */
  protected decoder: WireDecoder | null = null;
  /** What the current attempt's wire left out of the body (named in x-weir-dropped), or null. */
  protected wireDropped: Dropped | null = null;
  protected attemptStart = 0;
  /** Time spent waiting on upstreams (and backoff), i.e. not the gateway's own overhead. */
  protected notOverheadMs = 0;
  /** performance.now() when the answer that reached the client began (0: none yet). */
  protected answeredAt = 0;
  /** The gateway's own time, fixed when a stream starts (what follows is the upstream's pace). */
  protected streamOverheadMs = -1;
  /** The answer's end, held until the journal has the call's record (null: no journal). */
  private held: HeldEnd | null = null;
  private accounted = false;

  constructor(
    protected readonly ex: Exchange,
    protected readonly snap: Snapshot,
    protected group: ModelGroup,
    protected readonly scan: BodyScan,
    protected readonly endpoint: Endpoint,
    protected readonly ctx: CallContext,
    bodyLength: number,
  ) {
    super();
    this.dialect = endpoint === 'messages' ? 'anthropic' : 'openai';
    if (ctx.journal || ctx.charge || snap.metrics.usage) {
      this.acct = new CallAccounting(scan.stream && endpoint === 'chat', bodyLength);
      this.acct.anthropic = endpoint === 'messages';
    }
  }

  protected litellmHeaders(h: HeaderList): HeaderList {
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

  protected responseHeaders(up: IncomingHttpHeaders): HeaderList {
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
  protected account(status: number, error?: GatewayError, produced = status < 400): number {
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
  protected get out(): Pick<Exchange, 'end' | 'respond'> {
    return this.held ?? this.ex;
  }

  /**
   * Weir's own share of the call: for a stream, what it took until the stream started (the rest is
   * the upstream's pace); otherwise the whole call less the time spent waiting on upstreams. The
   * spend log and the metrics read the same figure.
   */
  protected overheadMs(now: number): number {
    return this.streamOverheadMs >= 0 ? this.streamOverheadMs : Math.max(0, now - this.ex.startedAt - this.notOverheadMs);
  }

  /** Counts the call in the worker's metrics row, and hands its phases over when it is traced. */
  protected observe(status: number, usage: TokenUsage | null, costNanos: number): void {
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
  protected keyHeaders(h: HeaderList): void {
    if (this.ctx.identity.kind === 'key' && this.ctx.entities) keyHeaders(h, this.ctx.identity.profile, this.ctx.entities);
  }

  protected debugLine(status: number, note?: string): void {
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
