// The usage scanner of Anthropic Messages streams: see usage-stream.ts for how every scanner
// reads a stream.
import { anthropicUsageFromObject } from './usage-body';
import { anthropicUsage, count, type TokenUsage } from './usage-types';
import { readTopLevelStrings, skipSpace, stringValueBytes } from './usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { DELTA_SKIP_KEYS, estimate, eventFields, K_DELTA, keyedValue, spanIs, SseScanner, type StreamUsage } from './usage-stream';

const P_TYPE = ['type'] as const;

export class AnthropicUsageScanner extends SseScanner {
  private id: string | undefined;
  private model: string | undefined;
  private started = false;
  private sawDelta = false;
  private done = false;
  private errored = false;
  private input = 0;
  private output = 0;
  private cacheRead = 0;
  private cacheCreation = 0;
  private cacheCreation1h = 0;
  private deltaEvents = 0;
  private textBytes = 0;
  constructor() {
    super(false);
  }

  protected onEvent(b: Buffer, s: number, e: number): boolean {
    const f = this.fields;
    eventFields(b, s, e, f);
    const d = f.dataBuf;
    let ns = f.nameStart;
    let ne = f.nameEnd;
    let nb = b;
    if (ns < 0) {
      // No `event:` line (some proxies): the data's `type` names the event.
      if (d === null) return false;
      const ds = skipSpace(d, f.dataStart, f.dataEnd);
      if (ds !== f.dataStart) scanSteps.n += ds - f.dataStart;
      if (d[ds] !== Byte.LBRACE) return false;
      const got: Record<string, string> = {};
      readTopLevelStrings(d, ds, f.dataEnd, P_TYPE, got);
      if (got.type === undefined) return false;
      nb = Buffer.from(got.type, 'latin1');
      ns = 0;
      ne = nb.length;
    }
    if (spanIs(nb, ns, ne, 'content_block_delta')) {
      if (d !== null) this.countDelta(d, f.dataStart, f.dataEnd);
    } else if (spanIs(nb, ns, ne, 'message_start')) {
      if (d !== null) this.onMessageStart(d, f.dataStart, f.dataEnd);
    } else if (spanIs(nb, ns, ne, 'message_delta')) {
      if (d !== null) this.onMessageDelta(d, f.dataStart, f.dataEnd);
    } else if (spanIs(nb, ns, ne, 'message_stop')) {
      this.done = true;
    } else if (spanIs(nb, ns, ne, 'error')) {
      this.errored = true;
    }
    return false;
  }

  private countDelta(d: Buffer, ds: number, de: number): void {
    const v = keyedValue(d, ds + 1, de, ds, Byte.LBRACE, K_DELTA); // the hop over the data: push counted it
    if (v < 0) return;
    const n = stringValueBytes(d, v, de, DELTA_SKIP_KEYS);
    if (n > 0) {
      this.deltaEvents++;
      this.textBytes += n;
    }
  }

  private parse(d: Buffer, ds: number, de: number): Record<string, unknown> | undefined {
    scanSteps.n += 2 * (de - ds);
    try {
      const o: unknown = JSON.parse(d.toString('utf8', ds, de));
      return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private onMessageStart(d: Buffer, ds: number, de: number): void {
    const o = this.parse(d, ds, de);
    const m = o && typeof o.message === 'object' && o.message !== null ? (o.message as Record<string, unknown>) : undefined;
    if (!m) return;
    if (typeof m.id === 'string') this.id ??= m.id;
    if (typeof m.model === 'string') this.model ??= m.model;
    this.merge(m.usage);
    this.started = true;
  }

  private onMessageDelta(d: Buffer, ds: number, de: number): void {
    const o = this.parse(d, ds, de);
    if (!o) return;
    if (this.merge(o.usage)) this.sawDelta = true;
  }

  /**
   * Counts in message_start and message_delta are cumulative for the message, and newer APIs
   * repeat input and cache counts in message_delta: each field keeps the largest value reported,
   * so a later report can only add, and a proxy's zero placeholder cannot erase a real count.
   */
  private merge(raw: unknown): boolean {
    const u = anthropicUsageFromObject(raw);
    if (!u) return false;
    this.input = Math.max(this.input, u.prompt_tokens);
    this.output = Math.max(this.output, u.completion_tokens);
    this.cacheRead = Math.max(this.cacheRead, u.cache_read_input_tokens);
    this.cacheCreation = Math.max(this.cacheCreation, u.cache_creation_input_tokens);
    this.cacheCreation1h = Math.max(this.cacheCreation1h, count(u.cache_creation_1h_input_tokens));
    return true;
  }

  private reported(): TokenUsage | undefined {
    if (!this.started && !this.sawDelta) return undefined;
    return anthropicUsage(this.input, this.output, this.cacheRead, this.cacheCreation, this.cacheCreation1h);
  }

  /** The stream ended in an `error` event. */
  get sawError(): boolean {
    return this.errored;
  }

  result(): StreamUsage {
    return {
      id: this.id,
      model: this.model,
      usage: this.reported(),
      complete: this.sawDelta,
      done: this.done,
      deltaEvents: this.deltaEvents,
      estimatedCompletionTokens: estimate(this.deltaEvents, this.textBytes),
    };
  }

  /**
   * Usage to charge. Complete streams: as reported. Cut after message_start: its input and cache
   * counts, and output = max(reported so far, estimate from deltas), marked `estimated`. Cut
   * before message_start: the caller's prompt estimate and the delta estimate.
   */
  usageOrEstimate(promptTokensEstimate: number): TokenUsage {
    const est = estimate(this.deltaEvents, this.textBytes);
    if (this.sawDelta) return this.reported()!;
    const u = this.started
      ? anthropicUsage(this.input, Math.max(this.output, est), this.cacheRead, this.cacheCreation, this.cacheCreation1h)
      : anthropicUsage(promptTokensEstimate, est);
    u.estimated = true;
    return u;
  }
}
