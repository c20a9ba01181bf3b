// Pure builders for the mock upstream's response bodies and SSE streams, in the OpenAI chat
// completions and Anthropic Messages dialects. Kept free of I/O so they can be unit-tested and so
// the server can serialize them once and reuse the strings (see the template cache in
// mock-upstream.ts).

export type Dialect = 'openai' | 'anthropic';

export const MOCK_MODEL = 'mock-model';
export const DEFAULT_TEXT = 'Hello from mock';
export const DEFAULT_DELTAS = 8;
/** Fixed so the models list is byte-for-byte stable (and pre-serializable). */
const MODEL_CREATED = 1_700_000_000;

/** Cheap token estimate: ~4 bytes per token. Never 0, so usage fields always look plausible. */
export function estimateTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}

/** Text of the i-th (0-based) stream delta; each one counts as exactly one completion token. */
export function deltaText(i: number): string {
  return `tok${i} `;
}

export function sseData(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

export function sseEvent(type: string, obj: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(obj)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

/**
 * A stream as a list of already-serialized SSE events. Deltas occupy
 * events[firstDelta .. firstDelta + deltas - 1]; everything after them is the tail (finish,
 * usage, terminator). The server needs the split to pace deltas and to drop mid-stream.
 */
export interface StreamScript {
  events: string[];
  firstDelta: number;
  deltas: number;
}

// ---------------------------------------------------------------- OpenAI

export interface OpenAIParams {
  id: string;
  model: string;
  created: number; // unix seconds
  promptTokens: number;
}

export function openaiCompletion(p: OpenAIParams & { text: string }): object {
  const completion = estimateTokens(Buffer.byteLength(p.text));
  return {
    id: p.id,
    object: 'chat.completion',
    created: p.created,
    model: p.model,
    choices: [{ index: 0, message: { role: 'assistant', content: p.text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: p.promptTokens, completion_tokens: completion, total_tokens: p.promptTokens + completion },
  };
}

export function openaiStream(p: OpenAIParams & { deltas: number; includeUsage: boolean }): StreamScript {
  // Real OpenAI sends `"usage": null` on every chunk when include_usage is on; mirror it so
  // gateways are exercised against the genuine shape.
  const chunk = (delta: object, finish: string | null) => {
    const c: Record<string, unknown> = {
      id: p.id,
      object: 'chat.completion.chunk',
      created: p.created,
      model: p.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
    if (p.includeUsage) c.usage = null;
    return sseData(c);
  };
  const events = [chunk({ role: 'assistant', content: '' }, null)];
  for (let i = 0; i < p.deltas; i++) events.push(chunk({ content: deltaText(i) }, null));
  events.push(chunk({}, 'stop'));
  if (p.includeUsage) {
    events.push(sseData({
      id: p.id,
      object: 'chat.completion.chunk',
      created: p.created,
      model: p.model,
      choices: [],
      usage: { prompt_tokens: p.promptTokens, completion_tokens: p.deltas, total_tokens: p.promptTokens + p.deltas },
    }));
  }
  events.push(SSE_DONE);
  return { events, firstDelta: 1, deltas: p.deltas };
}

export function modelsList(): object {
  return { object: 'list', data: [{ id: MOCK_MODEL, object: 'model', created: MODEL_CREATED, owned_by: 'weir-mock' }] };
}

// ---------------------------------------------------------------- Anthropic

export interface AnthropicParams {
  id: string;
  model: string;
  inputTokens: number;
}

export function anthropicMessage(p: AnthropicParams & { text: string }): object {
  return {
    id: p.id,
    type: 'message',
    role: 'assistant',
    model: p.model,
    content: [{ type: 'text', text: p.text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: p.inputTokens,
      output_tokens: estimateTokens(Buffer.byteLength(p.text)),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

export function anthropicStream(p: AnthropicParams & { deltas: number }): StreamScript {
  const events = [
    sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: p.id,
        type: 'message',
        role: 'assistant',
        model: p.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: p.inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      },
    }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  ];
  for (let i = 0; i < p.deltas; i++) {
    events.push(sseEvent('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: deltaText(i) },
    }));
  }
  events.push(
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: p.deltas },
    }),
    sseEvent('message_stop', { type: 'message_stop' }),
  );
  return { events, firstDelta: 2, deltas: p.deltas };
}

export function countTokensBody(inputTokens: number): object {
  return { input_tokens: inputTokens };
}

// ---------------------------------------------------------------- errors

const OPENAI_ERROR: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['permission_error', null],
  404: ['invalid_request_error', 'not_found'],
  408: ['timeout_error', null],
  413: ['invalid_request_error', 'request_too_large'],
  429: ['rate_limit_error', 'rate_limit_exceeded'],
};

const ANTHROPIC_ERROR: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

export interface OpenAIErrorBody { error: { message: string; type: string; param: null; code: string | null } }
export interface AnthropicErrorBody { type: 'error'; error: { type: string; message: string } }

export function openaiErrorBody(status: number, message: string): OpenAIErrorBody {
  const [type, code]: [string, string | null] = OPENAI_ERROR[status] ?? (status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
  return { error: { message, type, param: null, code } };
}

export function anthropicErrorBody(status: number, message: string): AnthropicErrorBody {
  const type = ANTHROPIC_ERROR[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message } };
}

export function errorBody(dialect: Dialect, status: number, message: string): OpenAIErrorBody | AnthropicErrorBody {
  return dialect === 'openai' ? openaiErrorBody(status, message) : anthropicErrorBody(status, message);
}
