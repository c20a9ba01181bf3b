// What a call used and cost, read from the upstream's answer as it passes: the usage in a whole
// body, or a scanner fed every stream chunk (which also hides the usage chunk Weir asked an OpenAI
// upstream for when the client did not). Only built when something needs it (spend logs or a
// governed key), so the plain master-key path does none of this work.
import { AnthropicUsageScanner } from '../accounting/usage-stream-anthropic';
import { OpenAIUsageScanner } from '../accounting/usage-stream-openai';
import { usageFromAnthropicBody, usageFromOpenAIBody } from '../accounting/usage-body';
import { applyEdits, includeUsageEdit } from '../accounting/usage-include';
import { anthropicUsage, openaiUsage, type TokenUsage } from '../accounting/usage-types';
import { usageFromGemini } from '../accounting/usage-gemini';
import { costNanos } from '../pricing/cost';
import type { BodyScan } from './body-scan';
import type { Target } from './snapshot';

/**
 * Bytes per token of the usage estimated when the upstream reports none: the typical ratio of
 * text (the reservation uses a conservative one, see reservation.ts), so the estimate is near
 * what the call cost rather than an upper bound.
 */
const ESTIMATE_BYTES_PER_TOKEN = 4;

export class CallAccounting {
  private scanner: OpenAIUsageScanner | AnthropicUsageScanner | null = null;
  private hideUsage = false;
  private bodyUsage: TokenUsage | undefined;
  /** Bytes of a whole answer that reported no usage (its size is the output estimate). */
  private answerBytes = -1;
  private answerAnthropic = false;
  /** Provider response id (becomes the spend log's request_id). */
  responseId: string | undefined;
  /** Epoch ms of the first byte of the answer. */
  firstByteMs = 0;
  /**
   * A Gemini deployment: the translator reads the usage (it parses every event), and this reads
   * it from there when the call ends. Set by the caller for each Gemini attempt.
   */
  gemini: { usageMetadata: Record<string, unknown> | undefined; responseId: string | undefined; outputChars?: number } | null = null;

  constructor(
    /** A chat-completions stream: the one kind where Weir asks the upstream for a usage chunk. */
    private readonly chatStream: boolean,
    /** Bytes of the request body: the prompt estimate of a stream cut before its usage. */
    private readonly bodyBytes: number,
  ) {}

  /**
   * The body for `t`: the model value replaced when it differs and, for OpenAI streams,
   * stream_options.include_usage set (in one copy). Also decides whether the usage chunk is hidden.
   * A deployment with a wire puts the model where its provider wants it: its body keeps the client's.
   */
  body(body: Buffer, scan: BodyScan, t: Target): Buffer {
    const usageEdit = this.chatStream && t.dialect === 'openai' ? includeUsageEdit(body, scan) : null;
    this.hideUsage = usageEdit?.hideUsageChunk ?? false;
    const modelEdit = t.upstreamModel === scan.model || t.wire ? null : { at: scan.modelStart, remove: scan.modelEnd - scan.modelStart, insert: t.upstreamModelJson };
    return applyEdits(body, [modelEdit, usageEdit?.edit ?? null]);
  }

  /** The body went through translation: nothing of the client's body is edited or hidden here. */
  translated(): void {
    this.hideUsage = false;
  }

  /** Whether the client asked for the usage chunk itself (the built-in mock needs to know). */
  get clientWantsUsage(): boolean {
    return !this.hideUsage;
  }

  /** A new attempt starts streaming from `t`. */
  startStream(t: Target): void {
    this.firstByteMs = Date.now();
    if (t.dialect === 'gemini') {
      this.scanner = null;
      return;
    }
    this.scanner = t.dialect === 'anthropic' || (t.dialect === 'any' && this.anthropic) ? new AnthropicUsageScanner() : new OpenAIUsageScanner({ hideUsageChunk: this.hideUsage });
  }

  /** Set by the caller for the mock provider, whose dialect follows the endpoint. */
  anthropic = false;

  /** Scans a chunk; returns the bytes to forward. */
  pass(chunk: Buffer): Buffer {
    return this.scanner ? this.scanner.push(chunk) : chunk;
  }

  /** The stream is over (finished or cut): bytes the scanner still held, to forward. */
  endStream(): Buffer | null {
    const tail = this.scanner?.end();
    return tail && tail.length ? tail : null;
  }

  /** A whole (non-streamed) answer. */
  readBody(buf: Buffer, t: Target): void {
    this.firstByteMs ||= Date.now();
    if (t.dialect === 'gemini') {
      // The translation reads it (and this.gemini holds it) right after.
      this.answerBytes = buf.length;
      this.answerAnthropic = false;
      return;
    }
    this.answerAnthropic = t.dialect === 'anthropic' || (t.dialect === 'any' && this.anthropic);
    const u = this.answerAnthropic ? usageFromAnthropicBody(buf) : usageFromOpenAIBody(buf);
    this.bodyUsage = u.usage;
    this.responseId = u.id;
    this.answerBytes = buf.length;
  }

  /** A whole answer was received but dropped (too large): its size is the output estimate. */
  droppedBody(bytes: number, t: Target): void {
    this.answerAnthropic = t.dialect === 'anthropic' || (t.dialect === 'any' && this.anthropic);
    this.answerBytes = bytes;
  }

  /** Usage to charge: the provider's, or an estimate for a stream cut before its usage. */
  usage(): TokenUsage {
    if (this.gemini) {
      this.responseId ??= this.gemini.responseId;
      const u = usageFromGemini(this.gemini.usageMetadata);
      if (u) return u;
      // A stream cut before its usage: estimated from the request and what was produced, never free.
      const est = openaiUsage(Math.ceil(this.bodyBytes / ESTIMATE_BYTES_PER_TOKEN), Math.ceil((this.gemini.outputChars ?? this.answerBytes) / ESTIMATE_BYTES_PER_TOKEN));
      est.estimated = true;
      return est;
    }
    if (this.scanner) {
      const r = this.scanner.result();
      this.responseId ??= r.id;
      return this.scanner.usageOrEstimate(Math.ceil(this.bodyBytes / ESTIMATE_BYTES_PER_TOKEN));
    }
    if (this.bodyUsage) return this.bodyUsage;
    if (this.answerBytes < 0) return openaiUsage(0, 0);
    // An answer without usage (some self-hosted servers): estimated from both sizes, as for a
    // stream cut before its usage, never free.
    const prompt = Math.ceil(this.bodyBytes / ESTIMATE_BYTES_PER_TOKEN);
    const output = Math.ceil(this.answerBytes / ESTIMATE_BYTES_PER_TOKEN);
    const u = this.answerAnthropic ? anthropicUsage(prompt, output) : openaiUsage(prompt, output);
    u.estimated = true;
    return u;
  }

  costNanos(t: Target | undefined, u: TokenUsage): number {
    return t ? costNanos(t.price, u) : 0;
  }
}
