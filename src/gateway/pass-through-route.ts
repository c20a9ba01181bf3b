// Which provider a pass-through path (LiteLLM's /anthropic/*, /openai/* and /bedrock/*) goes to, what the
// path is once its dot segments are resolved, and whether it is an LLM call (governed like
// /v1/messages and /v1/chat/completions: model access, budgets, limits, spend) or any other
// provider route (files, batches, models…: only for callers allowed them).
import { GatewayError } from './errors';
import type { Endpoint } from './proxy-call';

export type PassThroughProvider = 'anthropic' | 'openai' | 'bedrock' | 'vertex_ai' | 'gemini';

export interface PassThroughRoute {
  provider: PassThroughProvider;
  /** The path after the provider prefix, dot segments resolved (e.g. `/v1/messages`). */
  rest: string;
  /** The LLM API this path is, or 'count_tokens', or null for any other provider route. */
  llm: Endpoint | 'count_tokens' | null;
  /** The framing of an error event that ends a stream this route cut short. */
  streamDialect: 'anthropic' | 'openai' | 'responses';
  /**
   * Bedrock's LLM routes name the model and the API in the path (`/model/{id}/invoke-with-response-stream`):
   * the model id (decoded), whether the answer streams, and which API answers.
   */
  bedrock?: { model: string; stream: boolean; api: 'invoke' | 'converse' };
}

export const PASS_THROUGH_PREFIXES: readonly string[] = ['/anthropic/', '/openai/', '/bedrock/', '/vertex_ai/', '/vertex-ai/', '/gemini/'];

/**
 * Vertex AI's model calls: `/v1/projects/{p}/locations/{l}/publishers/{anthropic|google}/models/{m}:{method}`
 * (v1beta1 too). Claude's rawPredict / streamRawPredict are Anthropic messages (Claude Code's own
 * Vertex mode sends them), count-tokens:rawPredict is its token count, Gemini's generateContent /
 * streamGenerateContent are the Gemini dialect.
 */
export const VERTEX_MODEL_CALL = /^\/v1(?:beta1)?\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/(anthropic|google)\/models\/([^/:]+):([A-Za-z]+)$/;

/** Google AI Studio's model calls: `/v1beta/models/{m}:generateContent | streamGenerateContent` (v1, v1alpha too). */
export const GEMINI_MODEL_CALL = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;

function vertexLlm(rest: string): Endpoint | 'count_tokens' | null {
  const m = VERTEX_MODEL_CALL.exec(rest);
  if (!m) return null;
  const [, , , publisher, model, method] = m;
  if (publisher === 'anthropic') {
    if (model === 'count-tokens' && method === 'rawPredict') return 'count_tokens';
    return method === 'rawPredict' || method === 'streamRawPredict' ? 'messages' : null;
  }
  return method === 'generateContent' || method === 'streamGenerateContent' ? 'chat' : null;
}

const LLM_ROUTES: Record<'anthropic' | 'openai', Record<string, Endpoint | 'count_tokens'>> = {
  // Bedrock's, Vertex AI's and Gemini's are read from the path (bedrockRoute, vertexLlm, GEMINI_MODEL_CALL).
  anthropic: { '/v1/messages': 'messages', '/v1/messages/count_tokens': 'count_tokens' },
  openai: {
    '/v1/chat/completions': 'chat',
    '/chat/completions': 'chat',
    '/v1/completions': 'chat',
    '/v1/responses': 'responses',
    '/responses': 'responses',
    '/v1/embeddings': 'embeddings',
    '/embeddings': 'embeddings',
  },
};

/** Encoded slashes and backslashes: an upstream that decodes them could climb out of the route. */
const ENCODED_SEPARATOR = /%2f|%5c|\\/i;

/**
 * The route of a pass-through path, or null when the path is not under a pass-through prefix.
 * A path whose `..` segments (literal or percent-encoded) climb out of the provider prefix, or
 * that hides separators in escapes, is refused: it could reach another route of whatever
 * server the provider base URL points at (another proxy's /key/list, with the operator's key).
 */
export function passThroughRoute(path: string): PassThroughRoute | null {
  const provider: PassThroughProvider | null = path.startsWith('/anthropic/')
    ? 'anthropic'
    : path.startsWith('/openai/')
      ? 'openai'
      : path.startsWith('/bedrock/')
        ? 'bedrock'
        : path.startsWith('/vertex_ai/') || path.startsWith('/vertex-ai/')
          ? 'vertex_ai'
          : path.startsWith('/gemini/')
            ? 'gemini'
            : null;
  if (!provider) return null;
  if (ENCODED_SEPARATOR.test(path)) throw new GatewayError(400, `Pass-through path ${path} holds an encoded '/' or '\\'`, 'bad_request_error');
  const segments: string[] = [];
  for (const raw of path.slice(provider.length + 2).split('/')) {
    const seg = raw.replace(/%2e/gi, '.');
    if (seg === '.') continue;
    if (seg === '..') {
      if (segments.length === 0) throw new GatewayError(400, `Pass-through path ${path} climbs out of /${provider}/`, 'bad_request_error');
      segments.pop();
    } else segments.push(raw);
  }
  const rest = `/${segments.join('/')}`;
  if (provider === 'bedrock') return bedrockRoute(rest);
  if (provider === 'gemini') {
    const m = GEMINI_MODEL_CALL.exec(rest);
    return { provider, rest, llm: m ? (m[2] === 'countTokens' ? 'count_tokens' : 'chat') : null, streamDialect: 'openai' };
  }
  if (provider === 'vertex_ai') {
    const llm = vertexLlm(rest);
    return { provider, rest, llm, streamDialect: rest.includes('/publishers/anthropic/') ? 'anthropic' : 'openai' };
  }
  const llm = LLM_ROUTES[provider][rest] ?? null;
  const streamDialect = provider === 'anthropic' ? 'anthropic' : llm === 'responses' ? 'responses' : 'openai';
  return { provider, rest, llm, streamDialect };
}

/** Bedrock runtime's model routes: InvokeModel and Converse (streamed or not), CountTokens. */
const BEDROCK_MODEL_ROUTE = /^\/model\/([^/]+)\/(invoke|invoke-with-response-stream|converse|converse-stream|count-tokens)$/;

function bedrockRoute(rest: string): PassThroughRoute {
  const m = BEDROCK_MODEL_ROUTE.exec(rest);
  if (!m) return { provider: 'bedrock', rest, llm: null, streamDialect: 'anthropic' };
  let model: string;
  try {
    model = decodeURIComponent(m[1]!);
  } catch {
    throw new GatewayError(400, `Pass-through path /bedrock${rest} holds a model id that is not URL-encoded`, 'bad_request_error');
  }
  const op = m[2]!;
  if (op === 'count-tokens') return { provider: 'bedrock', rest, llm: 'count_tokens', streamDialect: 'anthropic', bedrock: { model, stream: false, api: 'invoke' } };
  return { provider: 'bedrock', rest, llm: 'messages', streamDialect: 'anthropic', bedrock: { model, stream: op.endsWith('-stream'), api: op.startsWith('invoke') ? 'invoke' : 'converse' } };
}

/**
 * The error dialect of a pass-through route: Anthropic's for /anthropic/*, /bedrock/* (Bedrock's
 * clients for Claude are Anthropic's SDK, which reads it) and Claude on Vertex; OpenAI's otherwise.
 */
export function passThroughDialect(path: string): 'anthropic' | 'openai' {
  if (path.startsWith('/anthropic') || path.startsWith('/bedrock')) return 'anthropic';
  return (path.startsWith('/vertex_ai/') || path.startsWith('/vertex-ai/')) && path.includes('/publishers/anthropic/') ? 'anthropic' : 'openai';
}
