// Ollama's native API as a wire (see wire.ts): the OpenAI chat body the call holds (the client's,
// or a translation's) becomes Ollama's request, and Ollama's answer (a JSON object, or an NDJSON
// stream) becomes an OpenAI one, so everything above (usage accounting, the translation back to an
// Anthropic client, the Responses chain) sees the chat completions API. The body is parsed here once
// per attempt: this is a translation, not the pass-through path.
import { GatewayError } from '../gateway/errors';
import { bodyText, jsonBytes } from '../gateway/json-body';
import { TranslationError } from '../translate/errors';
import { chatToOllama, type OllamaApi } from '../translate/ollama-request';
import { ollamaResponseToOpenAI, OllamaToOpenAIStream } from '../translate/ollama-response';
import type { Wire, WireSpec, WireTarget } from './wire';

export interface OllamaWireSpec extends WireSpec {
  kind: 'ollama';
  api: OllamaApi;
  /** /api/chat or /api/generate under the api_base, with its query. */
  path: string;
}

export function ollamaWire(spec: WireSpec, t: WireTarget): Wire {
  const { api, path } = spec as OllamaWireSpec;
  return {
    path: () => path,
    body(body: Buffer): Buffer {
      try {
        return jsonBytes(chatToOllama(JSON.parse(bodyText(body)) as Record<string, unknown>, t.upstreamModel, api));
      } catch (e) {
        if (e instanceof TranslationError) throw new GatewayError(e.status, e.message, e.type, e.param);
        if (e instanceof SyntaxError) throw new GatewayError(400, 'Request body is not valid JSON.', 'bad_request_error');
        throw e;
      }
    },
    dialectHeaders: false,
    sign: () => [],
    decoder(usageChunk: boolean) {
      const stream = new OllamaToOpenAIStream(api, usageChunk);
      return { push: (chunk: Buffer) => Buffer.from(stream.push(chunk)), end: () => Buffer.from(stream.end()) };
    },
    response: (raw: Buffer) => jsonBytes(ollamaResponseToOpenAI(JSON.parse(raw.toString('utf8')) as Record<string, unknown>, api)),
    countTokens: null,
  };
}
