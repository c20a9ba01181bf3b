// The usage scanner of OpenAI chat-completions streams (and of the Responses API's, whose usage
// rides on response.completed): see usage-stream.ts for how every scanner reads a stream.
import { openaiUsageFromObject } from './usage-body';
import { openaiUsage, type TokenUsage } from './usage-types';
import { readTopLevelStrings, skipSpace, stringValueBytes } from './usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { DELTA_SKIP_KEYS, estimate, eventFields, K_DELTA, keyBefore, keyedValue, spanIs, SseScanner, type StreamUsage } from './usage-stream';
import { indexOfByte } from '../byte-index';

const K_USAGE = Buffer.from('usage');
const K_CHOICES = Buffer.from('choices');
const ID_MODEL = ['id', 'model'] as const;

/** canRelease's steps: past the line breaks an event may start with, to `"choices": [`, to its first element. */
const LEADING_BREAKS = 0;
const CHOICES = 1;
const FIRST_ELEMENT = 2;

export interface OpenAIUsageScannerOptions {
  /** Drop the usage-only chunk from the bytes `push` returns (the client did not ask for it). */
  hideUsageChunk?: boolean;
}

export class OpenAIUsageScanner extends SseScanner {
  private id: string | undefined;
  private model: string | undefined;
  private usage: TokenUsage | undefined;
  private sawUsage = false;
  private done = false;
  private idTries = 0;
  private deltaEvents = 0;
  private textBytes = 0;
  private readonly hide: boolean;
  /** How far canRelease got in the current unterminated event. */
  private releaseStep = LEADING_BREAKS;
  private releaseAt = 0;

  constructor(opts: OpenAIUsageScannerOptions = {}) {
    super(opts.hideUsageChunk === true);
    this.hide = opts.hideUsageChunk === true;
  }

  protected onEvent(b: Buffer, s: number, e: number): boolean {
    const f = this.fields;
    eventFields(b, s, e, f);
    const d = f.dataBuf;
    if (d === null) return false;
    let ds = f.dataStart;
    let de = f.dataEnd;
    while (ds < de && (d[ds] === 0x20 || d[ds] === 0x09)) ds++;
    while (de > ds && (d[de - 1] === 0x20 || d[de - 1] === 0x09)) de--;
    if (ds !== f.dataStart || de !== f.dataEnd) scanSteps.n += ds - f.dataStart + (f.dataEnd - de);
    if (spanIs(d, ds, de, '[DONE]')) {
      this.done = true;
      return false;
    }
    if (d[ds] !== Byte.LBRACE) return false;
    // id/model: from the first data events that have them (Azure's first chunk has empty ones).
    if ((this.id === undefined || this.model === undefined) && this.idTries < 4) {
      this.idTries++;
      const got: Record<string, string> = {};
      readTopLevelStrings(d, ds, de, ID_MODEL, got);
      if (got.id) this.id ??= got.id;
      if (got.model) this.model ??= got.model;
    }
    // One pass over the event's `{`s: the delta object, and any `"usage": {` (`"usage": null`
    // rides on every chunk of an include_usage stream and is not a brace).
    // The event is parsed once at most: a parse that found no usage would find none again, at
    // the next brace that looks like `"usage": {` (a hostile event can be made of nothing else).
    let delta = -1;
    let parsed = false;
    for (let i = indexOfByte(d, Byte.LBRACE, ds + 1); i >= 0 && i < de; i = indexOfByte(d, Byte.LBRACE, i + 1)) {
      if (delta < 0 && keyBefore(d, i, ds, K_DELTA)) {
        delta = i;
      } else if (!parsed && keyBefore(d, i, ds, K_USAGE)) {
        parsed = true;
        const r = this.usageEvent(d, ds, de);
        if (r !== null) return r;
      }
    }
    if (delta >= 0) this.countDelta(d, delta, de);
    return false;
  }

  /** An event with a `"usage": {`: parse it. Returns "drop it", or null if it held no usage after all. */
  private usageEvent(d: Buffer, ds: number, de: number): boolean | null {
    let obj: unknown;
    scanSteps.n += 2 * (de - ds);
    try {
      obj = JSON.parse(d.toString('utf8', ds, de));
    } catch {
      return null;
    }
    if (typeof obj !== 'object' || obj === null) return null;
    let o = obj as { usage?: unknown; choices?: unknown; id?: unknown; model?: unknown; response?: unknown };
    // The Responses API (Codex) reports usage, id and model on `response` of response.completed.
    if (o.usage === undefined && typeof o.response === 'object' && o.response !== null) o = o.response as typeof o;
    const u = openaiUsageFromObject(o.usage);
    if (!u) return null;
    this.usage = u;
    this.sawUsage = true;
    if (this.id === undefined && typeof o.id === 'string' && o.id) this.id = o.id;
    if (this.model === undefined && typeof o.model === 'string' && o.model) this.model = o.model;
    const usageOnly = Array.isArray(o.choices) && o.choices.length === 0;
    if (!usageOnly) {
      // A second hop over the data (a usage event that also carries a delta: once a stream).
      const delta = keyedValue(d, ds + 1, de, ds, Byte.LBRACE, K_DELTA);
      scanSteps.n += 3 * ((delta < 0 ? ~delta : delta) - ds);
      if (delta >= 0) this.countDelta(d, delta, de);
    }
    return usageOnly && this.hide;
  }

  private countDelta(d: Buffer, brace: number, de: number): void {
    const n = stringValueBytes(d, brace, de, DELTA_SKIP_KEYS);
    if (n > 0) {
      this.deltaEvents++;
      this.textBytes += n;
    }
  }

  /**
   * An unterminated event may still be the usage-only chunk until its `"choices"` value shows
   * an element (or it is plainly not a JSON data event). Each call goes on from where the last
   * one stopped (releaseAt, in the step releaseStep), so an event held back over many chunks is
   * looked at once: what was decided about its first bytes holds, since a `[` is the value of
   * `"choices"` or not by the bytes before it.
   */
  protected override canRelease(b: Buffer, s: number, e: number): boolean {
    let i = this.releaseAt > s ? this.releaseAt : s;
    if (this.releaseStep === LEADING_BREAKS) {
      const from = i;
      while (i < e && (b[i] === Byte.LF || b[i] === Byte.CR)) i++;
      scanSteps.n += i - from;
      this.releaseAt = i;
      if (i >= e) return false;
      if (b[i] === Byte.COLON) return true; // a comment (`: keep-alive`) carries nothing
      this.releaseStep = CHOICES;
    }
    if (this.releaseStep === CHOICES) {
      const v = keyedValue(b, i, e, s, Byte.LBRACKET, K_CHOICES);
      scanSteps.n += 3 * ((v < 0 ? ~v : v) - i);
      if (v < 0) {
        this.releaseAt = e;
        return false;
      }
      this.releaseStep = FIRST_ELEMENT;
      i = v + 1;
    }
    const first = skipSpace(b, i, e);
    scanSteps.n += first - i;
    this.releaseAt = first;
    if (first >= e) return false;
    return b[first] !== Byte.RBRACKET;
  }

  protected override eventEnded(): void {
    this.releaseStep = LEADING_BREAKS;
    this.releaseAt = 0;
  }

  result(): StreamUsage {
    return {
      id: this.id,
      model: this.model,
      usage: this.usage,
      complete: this.sawUsage,
      done: this.done,
      deltaEvents: this.deltaEvents,
      estimatedCompletionTokens: estimate(this.deltaEvents, this.textBytes),
    };
  }

  /**
   * Usage to charge: the provider's, or — for a stream cut before its usage chunk — the prompt
   * estimate the caller made from the request and the completion estimate from the deltas seen
   * (marked `estimated`).
   */
  usageOrEstimate(promptTokensEstimate: number): TokenUsage {
    if (this.usage) return this.usage;
    const u = openaiUsage(promptTokensEstimate, estimate(this.deltaEvents, this.textBytes));
    u.estimated = true;
    return u;
  }
}
