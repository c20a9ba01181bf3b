// One call whose client and deployment speak different dialects: the request is translated once
// per attempt (the body is parsed once per call), and the answer is translated back as it comes,
// event by event for streams. Anthropic-to-Anthropic and OpenAI-to-OpenAI calls never get here:
// they stay byte pass-through.
import {
  AnthropicToOpenAIStream,
  OpenAIToAnthropicStream,
  TranslationError,
  anthropicResponseToOpenAIChat,
  anthropicToOpenAIChat,
  openAIChatResponseToAnthropic,
  openAIChatToAnthropic,
  type ToAnthropicContext,
  type ToOpenAIContext,
} from '../translate';
import { GatewayError } from './errors';
import type { Target } from './snapshot';

type Direction = 'anthropic-to-openai' | 'openai-to-anthropic';

export class Translation {
  private parsed: Record<string, unknown> | null = null;
  private toAnthropic: ToAnthropicContext | null = null;
  private toOpenAI: ToOpenAIContext | null = null;
  private stream: OpenAIToAnthropicStream | AnthropicToOpenAIStream | null = null;

  private constructor(
    readonly direction: Direction,
    private readonly raw: Buffer,
  ) {}

  /** The translation a call to `t` needs, or null when `t` speaks the client's dialect. */
  static needed(endpoint: 'chat' | 'messages', t: Target, raw: Buffer, current: Translation | null): Translation | null {
    if (t.dialect === 'any') return null;
    const direction: Direction | null = endpoint === 'messages' && t.dialect === 'openai' ? 'anthropic-to-openai' : endpoint === 'chat' && t.dialect === 'anthropic' ? 'openai-to-anthropic' : null;
    if (!direction) return null;
    return current?.direction === direction ? current : new Translation(direction, raw);
  }

  /** The upstream body for `t`. Throws a 400 GatewayError for what the upstream API cannot express. */
  request(t: Target): Buffer {
    try {
      this.parsed ??= JSON.parse(this.raw.toString('utf8')) as Record<string, unknown>;
      if (this.direction === 'anthropic-to-openai') {
        const r = anthropicToOpenAIChat(this.parsed, { model: t.upstreamModel });
        this.toAnthropic = { ...r.ctx, model: String(this.parsed.model) };
        return Buffer.from(JSON.stringify(r.body));
      }
      const r = openAIChatToAnthropic(this.parsed, { model: t.upstreamModel });
      this.toOpenAI = { ...r.ctx, model: String(this.parsed.model) };
      return Buffer.from(JSON.stringify(r.body));
    } catch (e) {
      if (e instanceof TranslationError) throw new GatewayError(e.status, e.message, e.type, e.param);
      if (e instanceof SyntaxError) throw new GatewayError(400, 'Request body is not valid JSON.', 'bad_request_error');
      throw e;
    }
  }

  startStream(): void {
    this.stream = this.direction === 'anthropic-to-openai' ? new OpenAIToAnthropicStream(this.toAnthropic!) : new AnthropicToOpenAIStream(this.toOpenAI!);
  }

  /** Upstream bytes in, client bytes out ('' when nothing is ready yet). */
  push(chunk: Buffer): string {
    return this.stream!.push(chunk);
  }

  /** The upstream stream ended: the closing events (or an error event if it ended early). */
  end(): string {
    return this.stream!.end();
  }

  /** The stream failed after it started: an error event in the client's framing. */
  fail(message: string, status: number): string {
    return this.stream ? this.stream.fail(message, status) : '';
  }

  /** A whole upstream answer, translated. Throws a 502 GatewayError when it cannot be read. */
  response(body: Buffer): string {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      const out = this.direction === 'anthropic-to-openai' ? openAIChatResponseToAnthropic(parsed, this.toAnthropic!) : anthropicResponseToOpenAIChat(parsed, this.toOpenAI!);
      return JSON.stringify(out);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new GatewayError(502, `The upstream answer could not be translated: ${msg}`, 'api_error');
    }
  }
}
