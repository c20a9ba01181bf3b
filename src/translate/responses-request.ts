// OpenAI Responses API request (/v1/responses, what Codex sends) → OpenAI chat completions request,
// for deployments that only speak chat completions (and, chained with openAIChatToAnthropic, for
// Anthropic ones).
//
//   instructions → a system message first · input (string or items) → messages:
//     message items (input_text / output_text / refusal / input_image / input_file parts) → system,
//       user or assistant messages (developer → system), in place;
//     function_call items → assistant tool_calls (consecutive calls, and the assistant text right
//       before them, form one assistant message); function_call_output → tool messages; images
//       in an output (Codex's view_image) → a user message right after the tool messages, as a
//       tool message carries text only;
//     custom_tool_call (freeform tools such as Codex's apply_patch) → a tool call whose arguments
//       are {"input": "<text>"}; custom_tool_call_output → a tool message;
//     a call with a `namespace` goes under its flat chat name (responses-tools.ts);
//     additional_tools items (Codex with GPT-6 models) → their tools join `tools`;
//     reasoning items → dropped (encrypted reasoning means nothing to another model);
//     items and parts of other types (web_search_call, compaction, local_shell_call, input_video,
//       …) → left out and named in `dropped`, with the outputs of the calls left out.
//   tools, tool_choice: responses-tools.ts (namespaces flattened, hosted tools left out and named).
//   parallel_tool_calls, temperature, top_p as they are; max_output_tokens → max_tokens (or
//   opts.maxTokensField); reasoning.effort → reasoning_effort; text.format → response_format;
//   user / safety_identifier → user; stream → stream + include_usage.
//   previous_response_id, conversation and item_reference need server-side state → 400.
import type { RequestTranslation } from './context';
import { estimateTokens } from './count-tokens';
import { Dropped } from './dropped';
import { TranslationError } from './errors';
import { ChatTools, flatToolName, type NamespacedName } from './responses-tools';
import { expectArray, expectObj, expectString, isObj, optNumber, optPositiveInt, type Obj } from './shape';

export interface ResponsesToChatOptions {
  /** The model name to put in the upstream body. */
  model: string;
  /** Where max_output_tokens goes: `max_tokens` (default) or `max_completion_tokens`. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /**
   * Hosted tools (web_search, file_search, code_interpreter, …): `drop` (default: left out and
   * named in the translation's `dropped`) or `error` (a 400 naming the tool).
   */
  hostedTools?: 'error' | 'drop';
}

/** Context for producing Responses API output from a chat completions upstream. */
export interface ToResponsesContext {
  /** The model name the client asked for. */
  model: string;
  /** Chat names of freeform (custom) tools: their calls go back as custom_tool_call items. */
  customTools?: ReadonlySet<string>;
  /** Chat (flat) names of namespaced tools → the namespace and name their calls go back with. */
  namespaced?: ReadonlyMap<string, NamespacedName>;
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

const IMAGE_NOTE = '(the tool returned image output; it follows in the next user message)';

class ChatMessages {
  readonly out: Obj[] = [];
  /** The assistant message tool calls are being collected into, while items keep adding to it. */
  private open: Obj | undefined;
  /** Images from tool outputs, sent as a user message once the tool messages are out. */
  private images: Obj[] | undefined;

  push(m: Obj): void {
    if (this.images !== undefined && m.role !== 'tool') this.flushImages();
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

  toolImage(part: Obj): void {
    (this.images ??= []).push(part);
  }

  end(): void {
    if (this.images !== undefined) this.flushImages();
  }

  private flushImages(): void {
    const images = this.images!;
    this.images = undefined;
    this.push({ role: 'user', content: images });
  }
}

function messageParts(v: unknown, param: string, role: string, dropped: Dropped): { text: string; parts: Obj[] | undefined } {
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
        if (typeof p.type !== 'string') throw new TranslationError(`${pp}.type: expected a string`, `${pp}.type`);
        dropped.item(pp, p.type);
    }
  }
  if (!onlyText) parts = all;
  else if (all.length > 1 && role === 'user') parts = all;
  return { text, parts };
}

/** A tool output (string or parts) → the tool message's text; its images go to `msgs.toolImage`. */
function toolOutput(v: unknown, param: string, msgs: ChatMessages, dropped: Dropped): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  const list = expectArray(v, param);
  let s = '';
  let images = 0;
  for (let i = 0; i < list.length; i++) {
    const p = expectObj(list[i], `${param}[${i}]`);
    if (typeof p.text === 'string') s += p.text;
    else if (p.type === 'input_image' && typeof p.image_url === 'string') {
      const image: Obj = { url: p.image_url };
      if (typeof p.detail === 'string' && p.detail !== 'auto') image.detail = p.detail;
      msgs.toolImage({ type: 'image_url', image_url: image });
      images++;
    } else if (typeof p.type === 'string') dropped.item(`${param}[${i}]`, p.type);
    else throw new TranslationError(`${param}[${i}].type: expected a string`, `${param}[${i}].type`);
  }
  if (images > 0) s = s.length === 0 ? IMAGE_NOTE : `${s}\n${IMAGE_NOTE}`;
  return s;
}

/** The chat name of a call: its flat name when it carries a namespace (responses-tools.ts). */
function callName(it: Obj, param: string): string {
  const name = expectString(it.name, `${param}.name`);
  return typeof it.namespace === 'string' ? flatToolName(it.namespace, name) : name;
}

const STATEFUL_ITEMS = new Set(['item_reference']);

function inputToMessages(input: unknown, msgs: ChatMessages, pending: Map<string, string>, tools: ChatTools, dropped: Dropped): void {
  if (typeof input === 'string') {
    msgs.push({ role: 'user', content: input });
    return;
  }
  const items = expectArray(input, 'input');
  /** call_ids of calls left out: their outputs go too. */
  let droppedCalls: Set<string> | undefined;
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
        const { text, parts } = messageParts(it.content, `${param}.content`, role, dropped);
        if (role === 'assistant') {
          if (text.length > 0) msgs.assistantText(text);
        } else if (parts !== undefined || text.length > 0 || role === 'user') msgs.push({ role: role === 'user' ? 'user' : 'system', content: parts ?? text });
        break;
      }
      case 'function_call': {
        const callId = expectString(it.call_id, `${param}.call_id`);
        const name = callName(it, param);
        const args = it.arguments === undefined ? '{}' : expectString(it.arguments, `${param}.arguments`);
        pending.set(callId, param);
        msgs.toolCall({ id: callId, type: 'function', function: { name, arguments: args } });
        break;
      }
      case 'custom_tool_call': {
        const callId = expectString(it.call_id, `${param}.call_id`);
        const name = callName(it, param);
        const input = it.input === undefined ? '' : expectString(it.input, `${param}.input`);
        pending.set(callId, param);
        msgs.toolCall({ id: callId, type: 'function', function: { name, arguments: JSON.stringify({ input }) } });
        break;
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        const callId = expectString(it.call_id, `${param}.call_id`);
        if (droppedCalls?.has(callId) === true) {
          dropped.item(param, type);
          break;
        }
        if (!pending.delete(callId)) {
          throw new TranslationError(`${param}.call_id: '${callId}' matches no earlier function call`, `${param}.call_id`);
        }
        msgs.push({ role: 'tool', tool_call_id: callId, content: toolOutput(it.output, `${param}.output`, msgs, dropped) });
        break;
      }
      case 'additional_tools':
        tools.add(it.tools, `${param}.tools`);
        break;
      case 'reasoning':
        break;
      default:
        if (typeof type !== 'string') throw new TranslationError(`${param}.type: expected a string`, `${param}.type`);
        if (STATEFUL_ITEMS.has(type)) {
          throw new TranslationError(`${param}: '${type}' refers to stored items; send the items themselves`, `${param}.type`);
        }
        // web_search_call, local_shell_call, compaction, mcp_call, …: nothing chat can hold.
        dropped.item(param, type);
        if (typeof it.call_id === 'string') (droppedCalls ??= new Set()).add(it.call_id);
    }
  }
  msgs.end();
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

  const dropped = new Dropped();
  const tools = new ChatTools(opts.hostedTools ?? 'drop', dropped);
  tools.add(body.tools, 'tools');
  const msgs = new ChatMessages();
  if (typeof body.instructions === 'string' && body.instructions.length > 0) msgs.push({ role: 'system', content: body.instructions });
  const pending = new Map<string, string>();
  inputToMessages(body.input, msgs, pending, tools, dropped);
  checkAnswered(pending);
  if (msgs.out.length === 0) throw new TranslationError('input: at least one input item is required', 'input');

  const out: Obj = { model: opts.model, messages: msgs.out };
  if (tools.tools.length > 0) {
    out.tools = tools.tools;
    if (body.tool_choice !== undefined && body.tool_choice !== null) {
      const tc = tools.choice(body.tool_choice);
      if (tc !== undefined) out.tool_choice = tc;
    }
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
  if (tools.custom !== undefined) ctx.customTools = tools.custom;
  if (tools.namespaced !== undefined) ctx.namespaced = tools.namespaced;
  if (out.stream === true) ctx.estimatedInputTokens = estimateTokens(out);
  return dropped.empty ? { body: out, ctx } : { body: out, ctx, dropped };
}
