// Non-streaming responses, both directions.
import type { ToAnthropicContext, ToOpenAIContext } from './context';
import { TranslationError } from './errors';
import { anthropicToolId, completionIdFrom, messageIdFrom, restoreToolName } from './names';
import { finishReasonFromStop, matchedStopSequence, stopReasonFromFinish } from './reasons';
import { isBlank, isObj, type Obj } from './shape';
import { mergeAnthropicUsage, emptyUsage, usageFromOpenAI, usageToOpenAI, type OpenAIUsage, type Usage } from './usage';

/** An Anthropic Messages response as produced here. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Obj[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: Usage;
}

/** An OpenAI chat completion as produced here. */
export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [{ index: 0; message: Obj; logprobs: null; finish_reason: string }];
  usage: OpenAIUsage;
}

function badUpstream(what: string): TranslationError {
  return new TranslationError(`the upstream returned a malformed response: ${what}`, null, 502, 'api_error');
}

/** Tool call arguments as an Anthropic `input`: '' → {}, and {} when the model wrote invalid JSON. */
export function parseToolInput(args: unknown): Obj {
  if (isObj(args)) return args; // some upstreams send the object itself
  if (typeof args !== 'string' || isBlank(args)) return {};
  try {
    const v: unknown = JSON.parse(args);
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (!Array.isArray(c)) return '';
  let s = '';
  for (const p of c) if (isObj(p) && typeof p.text === 'string') s += p.text;
  return s;
}

/**
 * OpenAI chat completion → Anthropic message. choices[0] only. Blocks in Anthropic's order:
 * thinking (from `thinking_blocks` with signatures, else `reasoning_content` / `reasoning`), text,
 * tool_use. Usage per usage.ts; `model` is the name the client asked for.
 */
export function openAIChatResponseToAnthropic(resp: unknown, ctx: ToAnthropicContext): AnthropicMessage {
  if (!isObj(resp)) throw badUpstream('not a JSON object');
  const choices = resp.choices;
  const choice = Array.isArray(choices) && isObj(choices[0]) ? choices[0] : undefined;
  if (choice === undefined) throw badUpstream('no choices');
  const msg = isObj(choice.message) ? choice.message : {};
  const content: Obj[] = [];

  if (Array.isArray(msg.thinking_blocks) && msg.thinking_blocks.length > 0) {
    for (const b of msg.thinking_blocks) {
      if (!isObj(b)) continue;
      if (b.type === 'redacted_thinking') content.push({ type: 'redacted_thinking', data: typeof b.data === 'string' ? b.data : '' });
      else content.push({ type: 'thinking', thinking: typeof b.thinking === 'string' ? b.thinking : '', signature: typeof b.signature === 'string' ? b.signature : '' });
    }
  } else {
    const rc = msg.reasoning_content;
    const r = typeof rc === 'string' && rc.length > 0 ? rc : msg.reasoning;
    if (typeof r === 'string' && r.length > 0) content.push({ type: 'thinking', thinking: r, signature: '' });
  }
  const text = contentText(msg.content);
  if (text.length > 0) content.push({ type: 'text', text });
  const refused = typeof msg.refusal === 'string' && msg.refusal.length > 0;
  if (refused && text.length === 0) content.push({ type: 'text', text: msg.refusal as string });

  let toolCalls = 0;
  if (Array.isArray(msg.tool_calls)) {
    for (const c of msg.tool_calls) {
      if (!isObj(c) || !isObj(c.function)) continue;
      const fn = c.function;
      content.push({
        type: 'tool_use',
        id: anthropicToolId(c.id),
        name: restoreToolName(typeof fn.name === 'string' ? fn.name : '', ctx.toolNames),
        input: parseToolInput(fn.arguments),
      });
      toolCalls++;
    }
  } else if (isObj(msg.function_call)) {
    const fn = msg.function_call;
    content.push({ type: 'tool_use', id: anthropicToolId(undefined), name: restoreToolName(String(fn.name ?? ''), ctx.toolNames), input: parseToolInput(fn.arguments) });
    toolCalls++;
  }

  const matched = choice.finish_reason === 'stop' && toolCalls === 0 ? matchedStopSequence(choice, ctx.stopSequences) : null;
  let stopReason = matched !== null ? 'stop_sequence' : stopReasonFromFinish(choice.finish_reason, toolCalls > 0);
  if (refused && stopReason === 'end_turn') stopReason = 'refusal';
  const u = usageFromOpenAI(resp.usage);
  return {
    id: ctx.messageId ?? messageIdFrom(resp.id),
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content,
    stop_reason: stopReason,
    stop_sequence: matched,
    usage: {
      input_tokens: u.input_tokens,
      cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens,
      output_tokens: u.output_tokens,
    },
  };
}

/**
 * Anthropic message → OpenAI chat completion. Text blocks are joined; thinking becomes
 * `reasoning_content` (joined) plus LiteLLM's `thinking_blocks` (with signatures, and
 * redacted_thinking data) so a client can replay them; tool_use → `tool_calls` (arguments = JSON
 * of input). Server-tool blocks (server_tool_use, web_search_tool_result, …) have no OpenAI form
 * and are left out.
 */
export function anthropicResponseToOpenAIChat(resp: unknown, ctx: ToOpenAIContext): ChatCompletion {
  if (!isObj(resp)) throw badUpstream('not a JSON object');
  if (!Array.isArray(resp.content)) throw badUpstream('no content array');
  let text = '';
  let reasoning = '';
  let thinkingBlocks: Obj[] | undefined;
  let toolCalls: Obj[] | undefined;
  for (const b of resp.content) {
    if (!isObj(b)) continue;
    switch (b.type) {
      case 'text':
        if (typeof b.text === 'string') text += b.text;
        break;
      case 'thinking': {
        const t = typeof b.thinking === 'string' ? b.thinking : '';
        reasoning += t;
        (thinkingBlocks ??= []).push({ type: 'thinking', thinking: t, signature: typeof b.signature === 'string' ? b.signature : '' });
        break;
      }
      case 'redacted_thinking':
        (thinkingBlocks ??= []).push({ type: 'redacted_thinking', data: typeof b.data === 'string' ? b.data : '' });
        break;
      case 'tool_use':
        (toolCalls ??= []).push({
          id: typeof b.id === 'string' ? b.id : '',
          type: 'function',
          function: { name: restoreToolName(typeof b.name === 'string' ? b.name : '', ctx.toolNames), arguments: JSON.stringify(isObj(b.input) ? b.input : {}) },
        });
        break;
      default:
        break;
    }
  }
  const message: Obj = { role: 'assistant', content: text.length > 0 || toolCalls === undefined ? text : null };
  if (toolCalls !== undefined) message.tool_calls = toolCalls;
  if (reasoning.length > 0) message.reasoning_content = reasoning;
  if (thinkingBlocks !== undefined) message.thinking_blocks = thinkingBlocks;
  const usage = mergeAnthropicUsage(resp.usage, emptyUsage());
  return {
    id: ctx.id ?? completionIdFrom(resp.id),
    object: 'chat.completion',
    created: ctx.created ?? Math.floor(Date.now() / 1000),
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonFromStop(resp.stop_reason) }],
    usage: usageToOpenAI(usage),
  };
}
