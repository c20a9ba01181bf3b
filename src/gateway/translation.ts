// One call whose client and deployment speak different dialects: the request is translated once
// per attempt (the body is parsed once per call), and the answer is translated back as it comes,
// event by event for streams. Anthropic-to-Anthropic and OpenAI-to-OpenAI calls never get here:
// they stay byte pass-through.
import {
  AnthropicToOpenAIStream,
  ChatToResponsesStream,
  chatResponseToResponses,
  responsesToChat,
  type ToResponsesContext,
  OpenAIToAnthropicStream,
  TranslationError,
  anthropicResponseToOpenAIChat,
  anthropicToOpenAIChat,
  openAIChatResponseToAnthropic,
  openAIChatToAnthropic,
  type ToAnthropicContext,
  type ToOpenAIContext,
  type Dropped,
} from '../translate';
import { chatToGemini, type GeminiContext } from '../translate/gemini-request';
import { geminiResponseToChat } from '../translate/gemini-response';
import { GeminiToAnthropicStream, GeminiToChatStream } from '../translate/gemini-stream';
import type { HeaderList } from '../server/exchange';
import { GatewayError } from './errors';
import { bodyText, jsonBytes } from './json-body';
import { MAX_JSON_DEPTH, tooDeepError } from './json-depth';
import { anthropicToOpenAIChatRaw, TOO_DEEP } from './raw-translation';
import { workerTranslationCache } from './translation-cache';
import type { Target } from './snapshot';
import type { BodyScan } from './body-scan';

/**
 * Client dialect → deployment dialect. A Responses client reaches an Anthropic deployment through
 * chat: Responses → chat → Anthropic on the way up, and back the same chain.
 */
type Direction = 'anthropic-to-openai' | 'openai-to-anthropic' | 'responses-to-chat' | 'responses-to-anthropic' | 'openai-to-gemini' | 'anthropic-to-gemini' | 'responses-to-gemini';

/** Gemini's usage and response id, read by the translator (it parses every event anyway). */
export interface GeminiReport {
  usageMetadata: Record<string, unknown> | undefined;
  responseId: string | undefined;
}

/** An Anthropic client's thinking budget, carried to Gemini as it is (0: thinking off). */
function anthropicThinkingBudget(body: Record<string, unknown>): number | undefined {
  const th = body.thinking as { type?: unknown; budget_tokens?: unknown } | undefined;
  if (th && th.type === 'enabled' && typeof th.budget_tokens === 'number') return th.budget_tokens;
  if (th && th.type === 'disabled') return 0;
  return undefined;
}

export class Translation {
  private parsed: Record<string, unknown> | null = null;
  private toAnthropic: ToAnthropicContext | null = null;
  private toOpenAI: ToOpenAIContext | null = null;
  private toResponses: ToResponsesContext | null = null;
  private stream: OpenAIToAnthropicStream | AnthropicToOpenAIStream | GeminiToChatStream | null = null;
  private toGemini: GeminiContext | null = null;
  /** Gemini deployments: the usage the answer reported (for spend), set as the answer is read. */
  gemini: GeminiReport | null = null;
  /** Responses clients: the last link of the chain (chat chunks → Responses events). */
  private responsesStream: ChatToResponsesStream | null = null;
  /** What the last request translation left out: named in the answer's headers. */
  private dropped: Dropped | undefined;

  private constructor(
    readonly direction: Direction,
    private readonly raw: Buffer,
    /** What the gateway's scan of `raw` read (body-scan.ts): how deep it nests, where its members and messages are. */
    private readonly scan: Pick<BodyScan, 'depth' | 'members' | 'messages'>,
  ) {}

  /** The translation a call to `t` needs, or null when `t` speaks the client's dialect. */
  static needed(endpoint: 'chat' | 'messages' | 'responses' | 'embeddings', t: Target, raw: Buffer, scan: Pick<BodyScan, 'depth' | 'members' | 'messages'>, current: Translation | null): Translation | null {
    let direction: Direction | null = null;
    if (endpoint === 'embeddings') return null;
    if (t.dialect === 'gemini') {
      direction = endpoint === 'messages' ? 'anthropic-to-gemini' : endpoint === 'responses' ? 'responses-to-gemini' : 'openai-to-gemini';
    } else if (endpoint === 'responses') {
      if (!t.responsesPath) direction = t.dialect === 'anthropic' ? 'responses-to-anthropic' : 'responses-to-chat';
    } else if (t.dialect !== 'any') {
      direction = endpoint === 'messages' && t.dialect === 'openai' ? 'anthropic-to-openai' : endpoint === 'chat' && t.dialect === 'anthropic' ? 'openai-to-anthropic' : null;
    }
    if (!direction) return null;
    return current?.direction === direction ? current : new Translation(direction, raw, scan);
  }

  /**
   * The upstream body for `t`: whole, or in pieces to be sent as they are (a session's history
   * from the translation cache). Throws a 400 GatewayError for what the upstream API cannot express.
   */
  request(t: Target): Buffer | readonly Buffer[] {
    this.dropped = undefined;
    // Everything below recurses once per level (the translators, JSON.stringify): bound it first.
    if (this.scan.depth > MAX_JSON_DEPTH) throw tooDeepError();
    try {
      if (this.direction === 'anthropic-to-openai' && this.parsed === null) {
        // A long body: its long strings go upstream as bytes, never decoded (raw-translation.ts),
        // and the parts this worker translated before (a session's history) are not translated
        // again (translation-cache.ts).
        const fast = workerTranslationCache.translate(this.raw, { model: t.upstreamModel }, this.scan);
        if (fast === TOO_DEEP) throw tooDeepError();
        if (fast) {
          this.toAnthropic = { ...fast.ctx, model: String(fast.model) };
          this.dropped = fast.dropped;
          return fast.body;
        }
      }
      if (this.direction === 'anthropic-to-gemini' && this.parsed === null) {
        const fast = this.geminiRequestRaw(t);
        if (fast) return fast;
      }
      this.parsed ??= JSON.parse(bodyText(this.raw)) as Record<string, unknown>;
      if (this.direction === 'anthropic-to-gemini' || this.direction === 'openai-to-gemini') return this.geminiRequest(t);
      if (this.direction === 'anthropic-to-openai') {
        const r = anthropicToOpenAIChat(this.parsed, { model: t.upstreamModel });
        this.toAnthropic = { ...r.ctx, model: String(this.parsed.model) };
        this.dropped = r.dropped;
        return jsonBytes(r.body);
      }
      let chat: Record<string, unknown> = this.parsed;
      if (this.direction !== 'openai-to-anthropic') {
        const r = responsesToChat(this.parsed, { model: t.upstreamModel });
        this.toResponses = { ...r.ctx, model: String(this.parsed.model) };
        this.dropped = r.dropped;
        if (this.direction === 'responses-to-chat') return jsonBytes(r.body);
        if (this.direction === 'responses-to-gemini') return this.geminiRequest(t, r.body);
        chat = r.body;
      }
      const r = openAIChatToAnthropic(chat, { model: t.upstreamModel });
      this.toOpenAI = { ...r.ctx, model: String(this.parsed.model) };
      if (this.dropped === undefined) this.dropped = r.dropped;
      else this.dropped.merge(r.dropped);
      return jsonBytes(r.body);
    } catch (e) {
      if (e instanceof TranslationError) throw new GatewayError(e.status, e.message, e.type, e.param);
      if (e instanceof SyntaxError) throw new GatewayError(400, 'Request body is not valid JSON.', 'bad_request_error');
      throw e;
    }
  }

  /**
   * A Gemini deployment: the client's body as chat (translated from Anthropic's first, with the
   * thinking budget carried as it is), then generateContent.
   */
  private geminiRequest(t: Target, fromResponses?: Record<string, unknown>): Buffer {
    const parsed = this.parsed!;
    let chat = fromResponses ?? parsed;
    let thinkingBudget: number | undefined;
    if (this.direction === 'anthropic-to-gemini') {
      const r = anthropicToOpenAIChat(parsed, { model: t.upstreamModel });
      this.toAnthropic = { ...r.ctx, model: String(parsed.model) };
      this.dropped = r.dropped;
      chat = r.body;
      thinkingBudget = anthropicThinkingBudget(parsed);
    }
    const g = chatToGemini(chat, t.upstreamModel, { thinkingBudget });
    this.toGemini = { ...g.ctx, model: String(parsed.model) };
    if (this.dropped === undefined) this.dropped = g.dropped;
    else this.dropped.merge(g.dropped);
    return jsonBytes(g.body);
  }

  /**
   * Anthropic → Gemini for a long body without decoding its long strings (raw-translation.ts):
   * the chat translation and then the Gemini one run on the skeleton, and the long strings' bytes
   * are spliced into the Gemini body. Null: take the ordinary path.
   */
  private geminiRequestRaw(t: Target): Buffer | null {
    let g: ReturnType<typeof chatToGemini> | undefined;
    const fast = anthropicToOpenAIChatRaw(this.raw, { model: t.upstreamModel }, MAX_JSON_DEPTH, (chat, client) => {
      g = chatToGemini(chat, t.upstreamModel, { thinkingBudget: anthropicThinkingBudget(client) });
      return g.body;
    });
    if (fast === TOO_DEEP) throw tooDeepError();
    if (!fast || !g) return null;
    this.toAnthropic = { ...fast.ctx, model: String(fast.model) };
    this.toGemini = { ...g.ctx, model: String(fast.model) };
    this.dropped = fast.dropped;
    if (this.dropped === undefined) this.dropped = g.dropped;
    else this.dropped.merge(g.dropped);
    return fast.body;
  }

  /**
   * Names what the request translation left out, on the answer (streamed or not):
   * `x-weir-dropped-tools` (tools the upstream cannot run) and `x-weir-dropped` (content of types
   * it cannot carry, by JSON path). Bounded in length (translate/dropped.ts).
   */
  noticeHeaders(h: HeaderList): void {
    const d = this.dropped;
    if (d === undefined) return;
    const tools = d.tools;
    if (tools !== null) h.push('x-weir-dropped-tools', tools);
    const items = d.items;
    if (items !== null) h.push('x-weir-dropped', items);
  }

  startStream(): void {
    if (this.toGemini) {
      const s = this.direction === 'anthropic-to-gemini' ? new GeminiToAnthropicStream(this.toGemini, this.toAnthropic!) : new GeminiToChatStream({ ...this.toGemini, includeUsage: this.direction === 'responses-to-gemini' || this.toGemini.includeUsage });
      this.stream = s;
      this.gemini = s;
      if (this.toResponses) this.responsesStream = new ChatToResponsesStream(this.toResponses);
      return;
    }
    if (this.direction === 'anthropic-to-openai') this.stream = new OpenAIToAnthropicStream(this.toAnthropic!);
    else if (this.direction !== 'responses-to-chat') this.stream = new AnthropicToOpenAIStream({ ...this.toOpenAI!, includeUsage: this.direction === 'responses-to-anthropic' || this.toOpenAI!.includeUsage });
    if (this.toResponses) this.responsesStream = new ChatToResponsesStream(this.toResponses);
  }

  /** Upstream bytes in, client bytes out ('' when nothing is ready yet). */
  push(chunk: Buffer): string {
    const first = this.stream ? this.stream.push(chunk) : chunk;
    return this.responsesStream ? (first.length ? this.responsesStream.push(first) : '') : (first as string);
  }

  /** The upstream stream ended: the closing events (or an error event if it ended early). */
  end(): string {
    const first = this.stream ? this.stream.end() : '';
    if (!this.responsesStream) return first;
    return (first ? this.responsesStream.push(first) : '') + this.responsesStream.end();
  }

  /** The stream failed after it started: an error event in the client's framing. */
  fail(message: string, status: number): string {
    if (this.responsesStream) return this.responsesStream.fail(message, status);
    return this.stream ? this.stream.fail(message, status) : '';
  }

  /** A whole upstream answer, translated. Throws a 502 GatewayError when it cannot be read. */
  response(body: Buffer): string {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (this.toGemini) {
        this.gemini = { usageMetadata: parsed.usageMetadata as Record<string, unknown> | undefined, responseId: typeof parsed.responseId === 'string' ? parsed.responseId : undefined };
        const chat = geminiResponseToChat(parsed, this.toGemini);
        if (this.direction === 'anthropic-to-gemini') return JSON.stringify(openAIChatResponseToAnthropic(chat, this.toAnthropic!));
        return JSON.stringify(this.toResponses ? chatResponseToResponses(chat, this.toResponses) : chat);
      }
      if (this.direction === 'anthropic-to-openai') return JSON.stringify(openAIChatResponseToAnthropic(parsed, this.toAnthropic!));
      const chat = this.direction === 'responses-to-chat' ? parsed : anthropicResponseToOpenAIChat(parsed, this.toOpenAI!);
      return JSON.stringify(this.toResponses ? chatResponseToResponses(chat, this.toResponses) : chat);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new GatewayError(502, `The upstream answer could not be translated: ${msg}`, 'api_error');
    }
  }
}
