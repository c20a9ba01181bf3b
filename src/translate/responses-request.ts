// OpenAI Responses API request (/v1/responses, what Codex sends) → OpenAI chat completions request,
// for deployments that only speak chat completions (and, chained with openAIChatToAnthropic, for
// Anthropic ones).
//
//   instructions → a system message first · input (string or items) → messages:
//     message items (input_text / output_text / refusal / input_image / input_file parts) → system,
//       user or assistant messages (developer → system);
//     function_call items → assistant tool_calls (consecutive calls, and the assistant text right
//       before them, form one assistant message); function_call_output → tool messages;
//     custom_tool_call (freeform tools such as Codex's apply_patch) → a tool call whose arguments
//       are {"input": "<text>"}; custom_tool_call_output → a tool message;
//     reasoning items → dropped (encrypted reasoning means nothing to another model).
//   tools: function → function; custom (freeform, with an optional grammar) → a function taking one
//     string `input`, the grammar appended to its description, and its calls turned back into
//     custom_tool_call items on the way out; hosted tools (web_search, file_search, …) → 400, or
//     dropped with opts.hostedTools 'drop'.
//   tool_choice, parallel_tool_calls, temperature, top_p as they are; max_output_tokens →
//   max_tokens (or opts.maxTokensField); reasoning.effort → reasoning_effort; text.format →
//   response_format; user / safety_identifier → user; stream → stream + include_usage.
//   previous_response_id, conversation and item_reference need server-side state → 400.
import type { RequestTranslation } from './context';
import { estimateTokens } from './count-tokens';
import { TranslationError } from './errors';
import { expectArray, expectObj, expectString, isObj, optNumber, optPositiveInt, type Obj } from './shape';

export interface ResponsesToChatOptions {
  /** The model name to put in the upstream body. */
  model: string;
  /** Where max_output_tokens goes: `max_tokens` (default) or `max_completion_tokens`. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Hosted tools (web_search, file_search, code_interpreter, …): `error` (default) or `drop`. */
  hostedTools?: 'error' | 'drop';
}

/** Context for producing Responses API output from a chat completions upstream. */
export interface ToResponsesContext {
  /** The model name the client asked for. */
  model: string;
  /** Names of freeform (custom) tools: their calls go back as custom_tool_call items. */
  customTools?: ReadonlySet<string>;
  /** Request fields a Response object echoes (instructions, tools, tool_choice, …). */
  echo: Obj;
  /** Response id; by default derived from the upstream id (`chatcmpl-x` → `resp_x`). */
  responseId?: string;
  /** created_at (Unix seconds); by default the time the response or stream started. */
  createdAt?: number;
  /** Input tokens to bill a stream that is cut before the upstream reports usage. */
  estimatedInputTokens?: number;
}

const ECHOED = ['instructions', 'max_output_tokens', 'metadata', 'parallel_tool_calls', 'reasoning', 'temperature', 'text', 'tool_choice', 'tools', 'top_p', 'truncation', 'user'];

class ChatMessages {
  readonly out: Obj[] = [];
  /** The assistant message tool calls are being collected into, while items keep adding to it. */
  private open: Obj | undefined;

  push(m: Obj): void {
    this.out.push(m);
    this.open = m.role === 'assistant' ? m : undefined;
  }

  assistantText(text: string): void {
    this.push({ role: 'assistant', content: text });
  }

  toolCall(call: Obj): void {
    let m = this.open;
    if (m === undefined) {
      m = { role: 'assistant', content: null };
      this.push(m);
    }
    ((m.tool_calls ??= []) as Obj[]).push(call);
  }
}

function messageParts(v: unknown, param: string, role: string): { text: string; parts: Obj[] | undefined } {
  if (typeof v === 'string') return { text: v, parts: undefined };
  const list = expectArray(v, param);
  let text = '';
  let parts: Obj[] | undefined;
  let onlyText = true;
  const all: Obj[] = [];
  for (let i = 0; i < list.length; i++) {
    const pp = `${param}[${i}]`;
    const p = expectObj(list[i], pp);
    switch (p.type) {
      case 'input_text':
      case 'output_text':
      case 'text': {
        const t = expectString(p.text, `${pp}.text`);
        text += t;
        all.push({ type: 'text', text: t });
        break;
      }
      case 'refusal': {
        const t = expectString(p.refusal, `${pp}.refusal`);
        text += t;
        all.push({ type: 'text', text: t });
        break;
      }
      case 'input_image': {
        if (role !== 'user') throw new TranslationError(`${pp}: images are only allowed in user messages`, `${pp}.type`);
        if (typeof p.image_url !== 'string') {
          throw new TranslationError(`${pp}: only image_url images can be translated (file_id needs the Files API)`, `${pp}.image_url`);
        }
        const image: Obj = { url: p.image_url };
        if (typeof p.detail === 'string' && p.detail !== 'auto') image.detail = p.detail;
        all.push({ type: 'image_url', image_url: image });
        onlyText = false;
        break;
      }
      case 'input_file': {
        const file: Obj = {};
        if (typeof p.file_data === 'string') file.file_data = p.file_data;
        else if (typeof p.file_id === 'string') file.file_id = p.file_id;
        else throw new TranslationError(`${pp}: input_file needs file_data or file_id`, pp);
        if (typeof p.filename === 'string') file.filename = p.filename;
        all.push({ type: 'file', file });
        onlyText = false;
        break;
      }
      default:
        throw new TranslationError(`${pp}: unknown content part type '${String(p.type)}'`, `${pp}.type`);
    }
  }
  if (!onlyText) parts = all;
  else if (all.length > 1 && role === 'user') parts = all;
  return { text, parts };
}

function outputText(v: unknown, param: string): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  const list = expectArray(v, param);
  let s = '';
  for (let i = 0; i < list.length; i++) {
    const p = expectObj(list[i], `${param}[${i}]`);
    if (typeof p.text === 'string') s += p.text;
    else throw new TranslationError(`${param}[${i}]: only text output can be sent to a chat completions model`, `${param}[${i}].type`);
  }
  return s;
}

const STATEFUL_ITEMS = new Set(['item_reference']);

function inputToMessages(input: unknown, msgs: ChatMessages, pending: Map<string, string>): void {
  if (typeof input === 'string') {
    msgs.push({ role: 'user', content: input });
    return;
  }
  const items = expectArray(input, 'input');
  for (let i = 0; i < items.length; i++) {
    const param = `input[${i}]`;
    const it = expectObj(items[i], param);
    const type = it.type ?? (it.role !== undefined ? 'message' : undefined);
    switch (type) {
      case 'message': {
        const role = it.role;
        if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
          throw new TranslationError(`${param}.role: unknown role '${String(role)}'`, `${param}.role`);
        }
        const { text, parts } = messageParts(it.content, `${param}.content`, role);
        if (role === 'assistant') {
          if (text.length > 0) msgs.assistantText(text);
        } else msgs.push({ role: role === 'user' ? 'user' : 'system', content: parts ?? text });
        break;
      }
      case 'function_call': {
        const callId = expectString(it.call_id, `${param}.call_id`);
        const name = expectString(it.name, `${param}.name`);
        const args = it.arguments === undefined ? '{}' : expectString(it.arguments, `${param}.arguments`);
        pending.set(callId, param);
        msgs.toolCall({ id: callId, type: 'function', function: { name, arguments: args } });
        break;
      }
      case 'custom_tool_call': {
        const callId = expectString(it.call_id, `${param}.call_id`);
        const name = expectString(it.name, `${param}.name`);
        const input = it.input === undefined ? '' : expectString(it.input, `${param}.input`);
        pending.set(callId, param);
        msgs.toolCall({ id: callId, type: 'function', function: { name, arguments: JSON.stringify({ input }) } });
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const callId = expectString(it.call_id, `${param}.call_id`);
        if (!pending.delete(callId)) {
          throw new TranslationError(`${param}.call_id: '${callId}' matches no earlier function call`, `${param}.call_id`);
        }
        msgs.push({ role: 'tool', tool_call_id: callId, content: outputText(it.output, `${param}.output`) });
        break;
      }
      case 'reasoning':
        break;
      default:
        if (typeof type === 'string' && STATEFUL_ITEMS.has(type)) {
          throw new TranslationError(`${param}: '${type}' refers to stored items; send the items themselves`, `${param}.type`);
        }
        throw new TranslationError(`${param}: input item type '${String(type)}' cannot be sent to a chat completions model`, `${param}.type`);
    }
  }
}

const HOSTED_TOOL_TYPES = /^(web_search|file_search|code_interpreter|image_generation|local_shell|mcp|computer_use|shell|apply_patch)/;

function toolsToChat(v: unknown, hosted: 'error' | 'drop'): { tools: Obj[]; names: Set<string>; custom: Set<string> | undefined } | undefined {
  if (v === undefined || v === null) return undefined;
  const list = expectArray(v, 'tools');
  const tools: Obj[] = [];
  const names = new Set<string>();
  let custom: Set<string> | undefined;
  for (let i = 0; i < list.length; i++) {
    const param = `tools[${i}]`;
    const t = expectObj(list[i], param);
    let fn: Obj;
    if (t.type === 'function') {
      const name = expectString(t.name, `${param}.name`);
      fn = { name };
      if (typeof t.description === 'string') fn.description = t.description;
      if (t.parameters !== undefined && t.parameters !== null) fn.parameters = expectObj(t.parameters, `${param}.parameters`);
      if (typeof t.strict === 'boolean') fn.strict = t.strict;
    } else if (t.type === 'custom') {
      const name = expectString(t.name, `${param}.name`);
      let description = typeof t.description === 'string' ? t.description : '';
      const f = isObj(t.format) ? t.format : undefined;
      if (f !== undefined && f.type === 'grammar' && typeof f.definition === 'string') {
        description += `${description ? '\n\n' : ''}The input must follow this ${String(f.syntax ?? '')} grammar:\n${f.definition}`;
      }
      fn = { name, parameters: { type: 'object', properties: { input: { type: 'string', description: 'The tool input, as free-form text.' } }, required: ['input'] } };
      if (description) fn.description = description;
      (custom ??= new Set()).add(name);
    } else if (typeof t.type === 'string' && HOSTED_TOOL_TYPES.test(t.type)) {
      if (hosted === 'drop') continue;
      throw new TranslationError(`${param}: '${t.type}' is a hosted tool of the Responses API; this model is served through chat completions`, `${param}.type`);
    } else throw new TranslationError(`${param}.type: unknown tool type '${String(t.type)}'`, `${param}.type`);
    const name = fn.name as string;
    if (names.has(name)) throw new TranslationError(`${param}.name: duplicate tool name '${name}'`, `${param}.name`);
    names.add(name);
    tools.push({ type: 'function', function: fn });
  }
  return { tools, names, custom };
}

function toolChoiceToChat(v: unknown, names: Set<string>): unknown {
  if (v === 'auto' || v === 'none' || v === 'required') return v;
  const tc = expectObj(v, 'tool_choice');
  if ((tc.type === 'function' || tc.type === 'custom') && typeof tc.name === 'string') {
    if (!names.has(tc.name)) throw new TranslationError(`tool_choice.name: no tool named '${tc.name}'`, 'tool_choice.name');
    return { type: 'function', function: { name: tc.name } };
  }
  if (tc.type === 'allowed_tools') return tc.mode === 'required' ? 'required' : 'auto';
  throw new TranslationError(`tool_choice: '${String(tc.type)}' cannot be expressed in chat completions`, 'tool_choice');
}

/** Every tool call is answered by a tool message after it. */
function checkAnswered(pending: Map<string, string>): void {
  for (const [id, where] of pending) {
    throw new TranslationError(`${where}: function call '${id}' has no function_call_output after it`, where);
  }
}

/** Responses API request → chat completions request, and the context for the response side. */
export function responsesToChat(input: unknown, opts: ResponsesToChatOptions): RequestTranslation<ToResponsesContext> {
  const body = expectObj(input, 'body');
  for (const k of ['previous_response_id', 'conversation'] as const) {
    if (body[k] !== undefined && body[k] !== null) {
      throw new TranslationError(`${k}: this model is served through chat completions, which keeps no conversation state; send the whole input`, k);
    }
  }
  if (body.background === true) throw new TranslationError('background: background responses are not supported for this model', 'background');
  if (body.input === undefined || body.input === null) throw new TranslationError('input: required', 'input');

  const msgs = new ChatMessages();
  if (typeof body.instructions === 'string' && body.instructions.length > 0) msgs.push({ role: 'system', content: body.instructions });
  const pending = new Map<string, string>();
  inputToMessages(body.input, msgs, pending);
  checkAnswered(pending);
  if (msgs.out.length === 0) throw new TranslationError('input: at least one input item is required', 'input');

  const out: Obj = { model: opts.model, messages: msgs.out };
  const tools = toolsToChat(body.tools, opts.hostedTools ?? 'error');
  if (tools !== undefined && tools.tools.length > 0) {
    out.tools = tools.tools;
    if (body.tool_choice !== undefined && body.tool_choice !== null) out.tool_choice = toolChoiceToChat(body.tool_choice, tools.names);
    if (typeof body.parallel_tool_calls === 'boolean') out.parallel_tool_calls = body.parallel_tool_calls;
  }
  const max = optPositiveInt(body.max_output_tokens, 'max_output_tokens');
  if (max !== undefined) out[opts.maxTokensField ?? 'max_tokens'] = max;
  const temperature = optNumber(body.temperature, 'temperature');
  if (temperature !== undefined) out.temperature = temperature;
  const topP = optNumber(body.top_p, 'top_p');
  if (topP !== undefined) out.top_p = topP;
  if (isObj(body.reasoning) && typeof body.reasoning.effort === 'string') out.reasoning_effort = body.reasoning.effort;
  if (isObj(body.text) && isObj(body.text.format)) {
    const f = body.text.format;
    if (f.type === 'json_schema') {
      const js: Obj = { name: typeof f.name === 'string' ? f.name : 'response', schema: expectObj(f.schema, 'text.format.schema') };
      if (typeof f.strict === 'boolean') js.strict = f.strict;
      if (typeof f.description === 'string') js.description = f.description;
      out.response_format = { type: 'json_schema', json_schema: js };
    } else if (f.type === 'json_object') out.response_format = { type: 'json_object' };
  }
  const user = typeof body.user === 'string' ? body.user : body.safety_identifier;
  if (typeof user === 'string' && user.length > 0) out.user = user;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }

  const echo: Obj = {};
  for (const k of ECHOED) if (body[k] !== undefined) echo[k] = body[k];
  const ctx: ToResponsesContext = { model: typeof body.model === 'string' ? body.model : opts.model, echo };
  if (tools?.custom !== undefined) ctx.customTools = tools.custom;
  if (out.stream === true) ctx.estimatedInputTokens = estimateTokens(out);
  return { body: out, ctx };
}
