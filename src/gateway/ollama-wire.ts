// One attempt at an Ollama deployment (providers/ollama.ts): the OpenAI chat body the call holds
// (the client's, or a translation's) becomes Ollama's request, and Ollama's answer becomes an
// OpenAI one, so everything above (usage accounting, the translation back to an Anthropic client,
// the Responses chain) sees the chat completions API. The body is parsed here once per attempt:
// this is a translation, not the pass-through path.
import { chatToOllama, type OllamaApi } from '../translate/ollama-request';
import { ollamaResponseToOpenAI, OllamaToOpenAIStream } from '../translate/ollama-response';
import { TranslationError } from '../translate/errors';
import { GatewayError } from './errors';
import { bodyText, jsonBytes } from './json-body';
import type { Target } from './snapshot';

export class OllamaWire {
  private readonly api: OllamaApi;
  private stream: OllamaToOpenAIStream | null = null;
  private includeUsage = false;

  constructor(t: Target) {
    this.api = t.wire === 'ollama-chat' ? 'chat' : 'generate';
  }

  /** Ollama's request for the OpenAI body. Throws a 400 GatewayError for what Ollama cannot be sent. */
  request(body: Buffer, t: Target): Buffer {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(bodyText(body)) as Record<string, unknown>;
      const so = parsed.stream_options as Record<string, unknown> | undefined;
      this.includeUsage = so?.include_usage === true;
      return jsonBytes(chatToOllama(parsed, t.upstreamModel, this.api));
    } catch (e) {
      if (e instanceof TranslationError) throw new GatewayError(e.status, e.message, e.type, e.param);
      if (e instanceof SyntaxError) throw new GatewayError(400, 'Request body is not valid JSON.', 'bad_request_error');
      throw e;
    }
  }

  /** Upstream NDJSON bytes in, OpenAI SSE bytes out. */
  push(chunk: Buffer): Buffer {
    this.stream ??= new OllamaToOpenAIStream(this.api, this.includeUsage);
    return Buffer.from(this.stream.push(chunk));
  }

  /** The stream ended: what its last line gives. */
  end(): Buffer {
    return Buffer.from(this.stream ? this.stream.end() : '');
  }

  /** A whole answer as a chat.completion. Throws a 502 GatewayError when it is not an Ollama answer. */
  response(raw: Buffer): Buffer {
    try {
      return jsonBytes(ollamaResponseToOpenAI(JSON.parse(raw.toString('utf8')) as Record<string, unknown>, this.api));
    } catch (e) {
      throw new GatewayError(502, `The Ollama answer could not be translated: ${(e as Error).message}`, 'api_error');
    }
  }
}
