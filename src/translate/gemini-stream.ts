// Gemini `streamGenerateContent?alt=sse` → OpenAI chat chunks, and on to Anthropic events.
//
// Each Gemini event is a whole GenerateContentResponse holding the parts produced since the last
// one. It becomes chat chunk objects: a role chunk first, then delta.content for text parts,
// delta.reasoning_content for thought parts, one tool_calls entry per functionCall part (Gemini
// sends a call whole, arguments included), and a finish chunk once a candidate has finishReason.
// usageMetadata may come on every event (AI Studio) or the last (Vertex): the last one seen is the
// usage, sent as the closing usage chunk when the stream ends (chat clients that asked for it).
// Gemini has no terminator of its own: the stream is complete when a finishReason arrived before
// the bytes ended; otherwise it ends with an error event (a cut stream).
//
// GeminiToChatStream serializes the chunks as chat SSE. GeminiToAnthropicStream hands the same
// objects to OpenAIToAnthropicStream.pushChunk (no serialize-and-parse round), so Anthropic
// clients get Anthropic's events with the mapping the OpenAI translator already makes.
import type { GeminiContext } from './gemini-request';
import { chatUsage, completionId, finishFromGemini, geminiError, toolCall } from './gemini-response';
import { openAIErrorType } from './errors';
import { isObj, type Obj } from './shape';
import { StreamTranslator } from './stream-translator';
import { OpenAIToAnthropicStream } from './stream-openai-to-anthropic';
import type { ToAnthropicContext } from './context';

export class GeminiToChatStream extends StreamTranslator {
  private id = '';
  private readonly created = Math.floor(Date.now() / 1000);
  private started = false;
  private toolCalls = 0;
  private finish: string | null = null;
  /** The last usageMetadata seen (the upstream's own object, for billing). */
  usageMetadata: Obj | undefined;
  /** responseId of the first event (the spend log's request id). */
  responseId: string | undefined;
  /** Characters of text, thoughts and arguments produced: the estimate of a stream cut before its usage. */
  outputChars = 0;

  constructor(protected readonly ctx: GeminiContext) {
    super();
  }

  /** One chat chunk object ready to go out. */
  protected emit(chunk: Obj): void {
    this.out += `data: ${JSON.stringify(chunk)}\n\n`;
  }

  /** The stream is complete. */
  protected close(): void {
    this.out += 'data: [DONE]\n\n';
  }

  private chunk(delta: Obj, finish: string | null): Obj {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.ctx.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }

  protected onEvent(_event: string, data: string): void {
    if (data.length === 0) return;
    let res: unknown;
    try {
      res = JSON.parse(data);
    } catch {
      return; // what cannot be parsed is skipped (StreamTranslator's contract)
    }
    if (!isObj(res)) return;
    if (res.error !== undefined) {
      const e = geminiError(res.error);
      this.failWith(e.message, e.status);
      return;
    }
    if (!this.started) {
      this.started = true;
      if (typeof res.responseId === 'string') this.responseId = res.responseId;
      this.id = completionId(res);
      this.emit(this.chunk({ role: 'assistant', content: '' }, null));
    }
    if (isObj(res.usageMetadata)) this.usageMetadata = res.usageMetadata;
    const c = Array.isArray(res.candidates) ? res.candidates[0] : undefined;
    if (!isObj(c)) {
      // The prompt itself was blocked: no candidate, the stream ends filtered.
      if (isObj(res.promptFeedback) && res.promptFeedback.blockReason && this.finish === null) {
        this.finish = 'content_filter';
        this.emit(this.chunk({}, this.finish));
      }
      return;
    }
    const parts = isObj(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [];
    for (const p of parts) {
      if (!isObj(p)) continue;
      if (isObj(p.functionCall)) {
        const call = toolCall(p, this.ctx);
        this.outputChars += ((call.function as Obj).arguments as string).length;
        this.emit(this.chunk({ tool_calls: [{ index: this.toolCalls++, ...call }] }, null));
      } else if (typeof p.text === 'string' && p.text.length > 0) {
        this.outputChars += p.text.length;
        this.emit(this.chunk(p.thought === true ? { reasoning_content: p.text } : { content: p.text }, null));
      }
    }
    if (c.finishReason !== undefined && c.finishReason !== null && this.finish === null) {
      this.finish = finishFromGemini(c.finishReason, this.toolCalls > 0);
      this.emit(this.chunk({}, this.finish));
    }
  }

  protected upstreamEnded(): void {
    if (this.finish === null) {
      this.failWith('the upstream stream ended before the response was complete', 502);
      return;
    }
    const usage = chatUsage(this.usageMetadata);
    if (usage && this.wantsUsage()) this.emit({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.ctx.model, choices: [], usage });
    this.finished = true;
    this.close();
  }

  protected wantsUsage(): boolean {
    return this.ctx.includeUsage === true;
  }

  protected failWith(message: string, status: number): void {
    this.finished = true;
    this.out += `data: ${JSON.stringify({ error: { message, type: openAIErrorType(status), param: null, code: String(status) } })}\n\n`;
  }
}

/** Gemini SSE → Anthropic events, through chat chunk objects. */
export class GeminiToAnthropicStream extends GeminiToChatStream {
  private readonly anthropic: OpenAIToAnthropicStream;

  constructor(ctx: GeminiContext, toAnthropic: ToAnthropicContext) {
    super(ctx);
    this.anthropic = new OpenAIToAnthropicStream(toAnthropic);
  }

  protected override emit(chunk: Obj): void {
    this.out += this.anthropic.pushChunk(chunk);
  }

  protected override close(): void {
    this.out += this.anthropic.end();
  }

  /** message_delta carries the usage: always sent to the Anthropic translator. */
  protected override wantsUsage(): boolean {
    return true;
  }

  protected override failWith(message: string, status: number): void {
    this.finished = true;
    this.out += this.anthropic.fail(message, status);
  }
}
