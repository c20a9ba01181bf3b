// Scripted answers of the mock upstream: one text or one tool call, rendered in the framing each
// API really uses, streamed or whole: Anthropic Messages, OpenAI chat completions and the OpenAI
// Responses API. The real-agent tests script a tool loop with them (see tool-loop.ts). Pure
// builders with no I/O, so what a client reads is decided here and nowhere else.
import { estimateTokens, sseData, sseEvent, SSE_DONE } from './mock-responses';

/** The APIs the mock answers turns in. */
export type ScriptedApi = 'anthropic' | 'chat' | 'responses';

/** One tool call: `arguments` is the JSON text of its input, as OpenAI carries it. */
export interface ScriptedToolCall {
  id: string;
  name: string;
  arguments: string;
  /**
   * The namespace tool the called function was offered in (Responses only: Codex offers an MCP
   * server's tools as `{type: 'namespace', name: 'mcp__<server>', tools}` and runs a call only when
   * it carries `name` and `namespace` apart). The other APIs have no namespaces: a namespaced call
   * scripted for them is a mistake of the test, and throws.
   */
  namespace?: string;
}

export type ScriptedReply = { text: string } | { toolCall: ScriptedToolCall };

/** What the request says and the server knows: the answer is built from these alone. */
export interface ScriptedParams {
  /** The message / completion / response id. */
  id: string;
  model: string;
  /** Unix seconds (OpenAI's `created`, the Responses API's `created_at`). */
  created: number;
  inputTokens: number;
  stream: boolean;
  /** Chat only: the request's stream_options.include_usage. */
  includeUsage: boolean;
}

/** A whole body (JSON text) or the stream's SSE events, each one a write. */
export type ScriptedAnswer = { json: string } | { events: string[] };

/**
 * A string in three pieces at fixed places, so a client has to join fragments to get it back
 * (providers stream tool arguments and text in many small deltas). Short strings stay whole.
 */
export function fragments(s: string): string[] {
  if (s.length < 3) return [s];
  const a = Math.floor(s.length / 3);
  const b = Math.floor((2 * s.length) / 3);
  return [s.slice(0, a), s.slice(a, b), s.slice(b)];
}

function outputTokens(reply: ScriptedReply): number {
  return estimateTokens(Buffer.byteLength('text' in reply ? reply.text : reply.toolCall.arguments));
}

export function scriptedAnswer(api: ScriptedApi, reply: ScriptedReply, p: ScriptedParams): ScriptedAnswer {
  if (api !== 'responses' && 'toolCall' in reply && reply.toolCall.namespace !== undefined) {
    throw new Error(`a ${api} answer cannot carry a namespaced call (${reply.toolCall.namespace} ${reply.toolCall.name}): only the Responses API has namespaces`);
  }
  switch (api) {
    case 'anthropic':
      return p.stream ? { events: anthropicEvents(reply, p) } : { json: JSON.stringify(anthropicBody(reply, p)) };
    case 'chat':
      return p.stream ? { events: chatEvents(reply, p) } : { json: JSON.stringify(chatBody(reply, p)) };
    case 'responses':
      return p.stream ? { events: responsesEvents(reply, p) } : { json: JSON.stringify(responseObject(reply, p, 'completed')) };
  }
}

// ---------------------------------------------------------------- Anthropic Messages

function anthropicBlock(reply: ScriptedReply): object {
  return 'text' in reply
    ? { type: 'text', text: reply.text }
    : { type: 'tool_use', id: reply.toolCall.id, name: reply.toolCall.name, input: JSON.parse(reply.toolCall.arguments) };
}

function anthropicBody(reply: ScriptedReply, p: ScriptedParams): object {
  return {
    id: p.id,
    type: 'message',
    role: 'assistant',
    model: p.model,
    content: [anthropicBlock(reply)],
    stop_reason: 'text' in reply ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: p.inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens(reply) },
  };
}

/** message_start, ping, one content block (its start, deltas, stop), message_delta, message_stop. */
function anthropicEvents(reply: ScriptedReply, p: ScriptedParams): string[] {
  const events = [
    sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: p.id, type: 'message', role: 'assistant', model: p.model, content: [], stop_reason: null, stop_sequence: null,
        usage: { input_tokens: p.inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
      },
    }),
    sseEvent('ping', { type: 'ping' }),
  ];
  const delta = (d: object) => sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: d });
  if ('text' in reply) {
    events.push(sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    for (const t of fragments(reply.text)) events.push(delta({ type: 'text_delta', text: t }));
  } else {
    const c = reply.toolCall;
    events.push(sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }));
    // Anthropic opens every tool input with an empty fragment.
    for (const t of ['', ...fragments(c.arguments)]) events.push(delta({ type: 'input_json_delta', partial_json: t }));
  }
  events.push(
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'text' in reply ? 'end_turn' : 'tool_use', stop_sequence: null },
      usage: { output_tokens: outputTokens(reply) },
    }),
    sseEvent('message_stop', { type: 'message_stop' }),
  );
  return events;
}

// ---------------------------------------------------------------- OpenAI chat completions

function chatUsage(reply: ScriptedReply, p: ScriptedParams): object {
  const out = outputTokens(reply);
  return { prompt_tokens: p.inputTokens, completion_tokens: out, total_tokens: p.inputTokens + out, prompt_tokens_details: { cached_tokens: 0 } };
}

function chatBody(reply: ScriptedReply, p: ScriptedParams): object {
  const message = 'text' in reply
    ? { role: 'assistant', content: reply.text }
    : { role: 'assistant', content: null, tool_calls: [{ id: reply.toolCall.id, type: 'function', function: { name: reply.toolCall.name, arguments: reply.toolCall.arguments } }] };
  return {
    id: p.id,
    object: 'chat.completion',
    created: p.created,
    model: p.model,
    choices: [{ index: 0, message, finish_reason: 'text' in reply ? 'stop' : 'tool_calls' }],
    usage: chatUsage(reply, p),
  };
}

/**
 * The role delta, the content or tool_calls deltas (the first call delta carries index, id, type
 * and name with empty arguments; the rest carry index and an argument fragment), the finish
 * reason, then the usage chunk when asked for (`usage: null` on every other chunk, as OpenAI
 * sends it) and [DONE].
 */
function chatEvents(reply: ScriptedReply, p: ScriptedParams): string[] {
  const chunk = (delta: object, finish: string | null) => {
    const c: Record<string, unknown> = { id: p.id, object: 'chat.completion.chunk', created: p.created, model: p.model, choices: [{ index: 0, delta, finish_reason: finish }] };
    if (p.includeUsage) c.usage = null;
    return sseData(c);
  };
  const events: string[] = [];
  if ('text' in reply) {
    events.push(chunk({ role: 'assistant', content: '' }, null));
    for (const t of fragments(reply.text)) events.push(chunk({ content: t }, null));
    events.push(chunk({}, 'stop'));
  } else {
    const c = reply.toolCall;
    events.push(chunk({ role: 'assistant', content: null }, null));
    events.push(chunk({ tool_calls: [{ index: 0, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }, null));
    for (const t of fragments(c.arguments)) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: t } }] }, null));
    events.push(chunk({}, 'tool_calls'));
  }
  if (p.includeUsage) {
    events.push(sseData({ id: p.id, object: 'chat.completion.chunk', created: p.created, model: p.model, choices: [], usage: chatUsage(reply, p) }));
  }
  events.push(SSE_DONE);
  return events;
}

// ---------------------------------------------------------------- OpenAI Responses API

/** The output item, finished or not: the only item of a scripted response. */
function responseItem(reply: ScriptedReply, p: ScriptedParams, done: boolean): Record<string, unknown> {
  const status = done ? 'completed' : 'in_progress';
  if ('text' in reply) {
    return { id: `msg_${p.id}`, type: 'message', status, content: done ? [{ type: 'output_text', annotations: [], logprobs: [], text: reply.text }] : [], role: 'assistant' };
  }
  const c = reply.toolCall;
  const item: Record<string, unknown> = { id: `fc_${p.id}`, type: 'function_call', status, arguments: done ? c.arguments : '', call_id: c.id, name: c.name };
  if (c.namespace !== undefined) item.namespace = c.namespace;
  return item;
}

function responseObject(reply: ScriptedReply, p: ScriptedParams, status: 'in_progress' | 'completed'): object {
  const done = status === 'completed';
  const out = outputTokens(reply);
  return {
    id: `resp_${p.id}`,
    object: 'response',
    created_at: p.created,
    status,
    error: null,
    incomplete_details: null,
    model: p.model,
    output: done ? [responseItem(reply, p, true)] : [],
    parallel_tool_calls: true,
    usage: done
      ? { input_tokens: p.inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: out, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: p.inputTokens + out }
      : null,
  };
}

/**
 * response.created, response.in_progress, output_item.added, the item's deltas and their .done
 * events, output_item.done, response.completed with the usage. Every event is named by an
 * `event:` line equal to its type and carries sequence_number 0, 1, …
 */
function responsesEvents(reply: ScriptedReply, p: ScriptedParams): string[] {
  let seq = 0;
  const ev = (type: string, body: object) => sseEvent(type, { type, sequence_number: seq++, ...body });
  const item = responseItem(reply, p, true);
  const itemId = item.id as string;
  const events = [
    ev('response.created', { response: responseObject(reply, p, 'in_progress') }),
    ev('response.in_progress', { response: responseObject(reply, p, 'in_progress') }),
    ev('response.output_item.added', { output_index: 0, item: responseItem(reply, p, false) }),
  ];
  if ('text' in reply) {
    const at = { item_id: itemId, output_index: 0, content_index: 0 };
    events.push(ev('response.content_part.added', { ...at, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } }));
    for (const t of fragments(reply.text)) events.push(ev('response.output_text.delta', { ...at, delta: t, logprobs: [] }));
    events.push(
      ev('response.output_text.done', { ...at, text: reply.text, logprobs: [] }),
      ev('response.content_part.done', { ...at, part: { type: 'output_text', annotations: [], logprobs: [], text: reply.text } }),
    );
  } else {
    const at = { item_id: itemId, output_index: 0 };
    for (const t of fragments(reply.toolCall.arguments)) events.push(ev('response.function_call_arguments.delta', { ...at, delta: t }));
    events.push(ev('response.function_call_arguments.done', { ...at, arguments: reply.toolCall.arguments }));
  }
  events.push(
    ev('response.output_item.done', { output_index: 0, item }),
    ev('response.completed', { response: responseObject(reply, p, 'completed') }),
  );
  return events;
}
