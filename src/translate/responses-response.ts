// Chat completions response → Responses API response object (non-streaming), and the pieces the
// stream translator shares: the Response envelope, usage and output items.
import { TranslationError } from './errors';
import type { ToResponsesContext } from './responses-request';
import { isObj, num, type Obj } from './shape';
import { parseToolInput } from './response';

/** `resp_…` from the upstream id (`chatcmpl-abc` → `resp_abc`), or a fresh one. */
export function responseIdFrom(upstreamId: unknown): string {
  if (typeof upstreamId === 'string' && upstreamId.length > 0) {
    const rest = upstreamId.startsWith('chatcmpl-') ? upstreamId.slice(9) : upstreamId;
    return `resp_${rest.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  }
  return `resp_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** Chat usage → Responses usage (input_tokens includes the cached ones, as OpenAI counts them). */
export function responsesUsage(u: unknown): ResponsesUsage {
  const o = isObj(u) ? u : {};
  const input = num(o.prompt_tokens);
  const output = num(o.completion_tokens);
  const pd = isObj(o.prompt_tokens_details) ? o.prompt_tokens_details : {};
  const cd = isObj(o.completion_tokens_details) ? o.completion_tokens_details : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: num(pd.cached_tokens) || num(o.cache_read_input_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: num(cd.reasoning_tokens) },
    total_tokens: num(o.total_tokens) || input + output,
  };
}

/** The Response object around the output, with the request fields it echoes. */
export function responseEnvelope(ctx: ToResponsesContext, id: string, createdAt: number, status: string, output: Obj[], usage: ResponsesUsage | null, finish?: unknown): Obj {
  const e = ctx.echo;
  let incomplete: Obj | null = null;
  if (finish === 'length') incomplete = { reason: 'max_output_tokens' };
  else if (finish === 'content_filter') incomplete = { reason: 'content_filter' };
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: incomplete !== null && status === 'completed' ? 'incomplete' : status,
    error: null,
    incomplete_details: incomplete,
    instructions: e.instructions ?? null,
    max_output_tokens: e.max_output_tokens ?? null,
    model: ctx.model,
    output,
    parallel_tool_calls: e.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: e.reasoning ?? null,
    store: false,
    temperature: e.temperature ?? null,
    text: e.text ?? { format: { type: 'text' } },
    tool_choice: e.tool_choice ?? 'auto',
    tools: e.tools ?? [],
    top_p: e.top_p ?? null,
    truncation: e.truncation ?? 'disabled',
    usage,
    user: e.user ?? null,
    metadata: e.metadata ?? {},
  };
}

export function reasoningItem(id: string, text: string): Obj {
  return { type: 'reasoning', id, summary: text.length > 0 ? [{ type: 'summary_text', text }] : [] };
}

export function messageItem(id: string, text: string, refusal: boolean, status: string): Obj {
  const part = refusal ? { type: 'refusal', refusal: text } : { type: 'output_text', text, annotations: [] };
  return { type: 'message', id, status, role: 'assistant', content: [part] };
}

/**
 * A chat tool call as a Responses output item: function_call, or custom_tool_call for freeform
 * tools; a namespaced tool's flat chat name split back into `name` and `namespace` (Codex runs
 * the tool only so).
 */
export function toolCallItem(ctx: ToResponsesContext, itemId: string, callId: string, chatName: string, args: string, status: string): Obj {
  const ns = ctx.namespaced?.get(chatName);
  const name = ns === undefined ? chatName : ns.name;
  if (ctx.customTools?.has(chatName) === true) {
    const parsed = parseToolInput(args);
    const input = typeof parsed.input === 'string' ? parsed.input : args;
    return ns === undefined
      ? { type: 'custom_tool_call', id: itemId, call_id: callId, name, input, status }
      : { type: 'custom_tool_call', id: itemId, call_id: callId, name, namespace: ns.namespace, input, status };
  }
  return ns === undefined
    ? { type: 'function_call', id: itemId, call_id: callId, name, arguments: args, status }
    : { type: 'function_call', id: itemId, call_id: callId, name, namespace: ns.namespace, arguments: args, status };
}

/**
 * Chat completion → Response object: reasoning (reasoning_content / reasoning) → a reasoning item
 * with a summary, content or refusal → a message item, tool_calls → function_call (or
 * custom_tool_call) items. finish_reason length / content_filter → status incomplete.
 */
export function chatResponseToResponses(resp: unknown, ctx: ToResponsesContext): Obj {
  if (!isObj(resp) || !Array.isArray(resp.choices) || !isObj(resp.choices[0])) {
    throw new TranslationError('the upstream returned a malformed response: no choices', null, 502, 'api_error');
  }
  const choice = resp.choices[0];
  const msg = isObj(choice.message) ? choice.message : {};
  const id = ctx.responseId ?? responseIdFrom(resp.id);
  const base = id.slice(5);
  const output: Obj[] = [];
  const rc = msg.reasoning_content;
  const reasoning = typeof rc === 'string' && rc.length > 0 ? rc : msg.reasoning;
  if (typeof reasoning === 'string' && reasoning.length > 0) output.push(reasoningItem(`rs_${base}`, reasoning));
  if (typeof msg.content === 'string' && msg.content.length > 0) output.push(messageItem(`msg_${base}`, msg.content, false, 'completed'));
  else if (typeof msg.refusal === 'string' && msg.refusal.length > 0) output.push(messageItem(`msg_${base}`, msg.refusal, true, 'completed'));
  if (Array.isArray(msg.tool_calls)) {
    let n = 0;
    for (const c of msg.tool_calls) {
      if (!isObj(c) || !isObj(c.function)) continue;
      const fn = c.function;
      const args = typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {});
      output.push(toolCallItem(ctx, `fc_${base}_${n++}`, typeof c.id === 'string' ? c.id : `call_${base}_${n}`, String(fn.name ?? ''), args, 'completed'));
    }
  }
  const created = ctx.createdAt ?? (typeof resp.created === 'number' ? resp.created : Math.floor(Date.now() / 1000));
  return responseEnvelope(ctx, id, created, 'completed', output, responsesUsage(resp.usage), choice.finish_reason);
}
