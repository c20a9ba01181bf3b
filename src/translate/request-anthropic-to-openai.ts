// Anthropic Messages request → OpenAI chat completions request.
import { createHash } from 'node:crypto';
import { documentBlockToOpenAI, imageBlockToOpenAI } from './content';
import type { RequestTranslation, ToAnthropicContext } from './context';
import { estimateTokens, type StringLength } from './count-tokens';
import { Dropped } from './dropped';
import { TranslationError } from './errors';
import { isValidToolName, ToolNamer } from './names';
import { effortFromAnthropicEffort, effortFromBudget } from './reasons';
import { expectArray, expectObj, expectString, isObj, optNumber, optPositiveInt, type Obj } from './shape';

export interface AnthropicToOpenAIOptions {
  /** The model name to put in the upstream body (the deployment's model). */
  model: string;
  /** Where max_tokens goes: `max_tokens` (default) or `max_completion_tokens` (o-series, gpt-5). */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Upper bound for the max_tokens sent (Claude Code asks 32000; many models allow less). */
  maxTokensCap?: number;
  /**
   * Thinking blocks in the history: `drop` (default; OpenAI refuses unknown message fields and
   * cannot use Anthropic signatures), `reasoning_content` (their text, for DeepSeek/vLLM-style
   * backends), or `thinking_blocks` (LiteLLM's shape: `thinking_blocks` with signatures plus
   * `reasoning_content`, for a LiteLLM proxy upstream).
   */
  thinkingHistory?: 'drop' | 'reasoning_content' | 'thinking_blocks';
  /**
   * Anthropic server tools (web_search, web_fetch, code_execution, computer, memory, …) that only
   * Anthropic's API can run, and tool types newer than this translator: `drop` (default: left out
   * and named in the translation's `dropped`) or `error` (a 400 naming the tool).
   */
  serverTools?: 'error' | 'drop';
  /**
   * Keep `cache_control` breakpoints (LiteLLM's OpenAI-format convention: on content parts, tool
   * messages and tools; system then goes as text parts). Off by default — OpenAI caches by itself
   * and refuses unknown fields — but set it when the OpenAI-compatible upstream serves Claude
   * (a LiteLLM proxy, OpenRouter, a Bedrock/Vertex gateway), or prompt caching silently stops.
   */
  keepCacheControl?: boolean;
  /**
   * How long a string counts for in the stream's input token estimate: the raw-body translation
   * (gateway/raw-translation.ts) stands short markers in for long strings and knows their lengths.
   */
  stringLength?: StringLength;
  /**
   * Translates `messages` in place of the built-in walk (the per-session cache,
   * gateway/translation-cache.ts, puts its cached turns there and translates only the new ones).
   */
  messages?: (v: unknown, c: Conv) => void;
  /** Where to record what is left out (a recording one, for that cache); a fresh one by default. */
  dropped?: Dropped;
}

const BASH_PARAMETERS = {
  type: 'object',
  properties: {
    command: { type: 'string', description: 'The bash command to run.' },
    restart: { type: 'boolean', description: 'Restart the shell session.' },
  },
};

function textEditorParameters(type: string): Obj {
  const legacy = type === 'text_editor_20241022' || type === 'text_editor_20250124';
  const properties: Obj = {
    command: { type: 'string', enum: legacy ? ['view', 'create', 'str_replace', 'insert', 'undo_edit'] : ['view', 'create', 'str_replace', 'insert'] },
    path: { type: 'string', description: 'Absolute path to the file or directory.' },
    file_text: { type: 'string', description: 'Content of the file to create (create).' },
    old_str: { type: 'string', description: 'Text to replace, must be unique in the file (str_replace).' },
    new_str: { type: 'string', description: 'Replacement text (str_replace) or text to insert (insert).' },
    insert_line: { type: 'integer', description: 'Line after which to insert (insert).' },
    view_range: { type: 'array', items: { type: 'integer' }, description: '[start, end] lines to view (view).' },
  };
  return { type: 'object', properties, required: ['command', 'path'] };
}

/**
 * Anthropic-defined tools the *client* executes have fixed schemas and can be offered to any model
 * as functions: bash_* and text_editor_*. Everything else Anthropic defines runs on Anthropic's
 * servers (or needs its computer-use loop) and has no OpenAI equivalent.
 */
function anthropicDefinedTool(tool: Obj, type: string, param: string, namer: ToolNamer, serverTools: 'error' | 'drop', dropped: Dropped): Obj | null {
  if (type.startsWith('bash_')) {
    const name = typeof tool.name === 'string' ? tool.name : 'bash';
    return { type: 'function', function: { name: namer.upstreamName(name), description: 'Run a command in a persistent bash shell.', parameters: BASH_PARAMETERS } };
  }
  if (type.startsWith('text_editor_')) {
    const name = typeof tool.name === 'string' ? tool.name : 'str_replace_based_edit_tool';
    return {
      type: 'function',
      function: { name: namer.upstreamName(name), description: 'View, create and edit text files.', parameters: textEditorParameters(type) },
    };
  }
  if (serverTools === 'drop') {
    dropped.tool(type);
    return null;
  }
  throw new TranslationError(
    `${param}: '${type}' is an Anthropic server tool that only Anthropic's API can run; this model is served through an OpenAI-compatible API`,
    `${param}.type`,
  );
}

interface TranslatedTools {
  tools: Obj[];
  /** Upstream names of the tools offered. */
  names: Set<string>;
  /** Names of the tools left out (a tool_choice naming one is left out too). */
  droppedNames: Set<string> | undefined;
}

function toolsToOpenAI(v: unknown, namer: ToolNamer, serverTools: 'error' | 'drop', keep: boolean, dropped: Dropped): TranslatedTools | undefined {
  if (v === undefined || v === null) return undefined;
  const list = expectArray(v, 'tools');
  const tools: Obj[] = [];
  const names = new Set<string>();
  let droppedNames: Set<string> | undefined;
  for (let i = 0; i < list.length; i++) {
    const param = `tools[${i}]`;
    const tool = expectObj(list[i], param);
    let out: Obj | null;
    const type = tool.type;
    if (type === undefined || type === null || type === 'custom' || tool.input_schema !== undefined) {
      const name = expectString(tool.name, `${param}.name`);
      if (!isValidToolName(name)) {
        throw new TranslationError(`${param}.name: '${name}' is not a valid tool name (letters, digits, _ and - only)`, `${param}.name`);
      }
      const schema = tool.input_schema;
      if (!isObj(schema) || schema.type !== 'object') {
        throw new TranslationError(`${param}.input_schema: must be a JSON Schema object with "type": "object"`, `${param}.input_schema`);
      }
      const fn: Obj = { name: namer.upstreamName(name) };
      if (typeof tool.description === 'string') fn.description = tool.description;
      fn.parameters = schema;
      out = { type: 'function', function: fn };
      if (keep && isObj(tool.cache_control)) out.cache_control = tool.cache_control;
    } else {
      out = anthropicDefinedTool(tool, expectString(type, `${param}.type`), param, namer, serverTools, dropped);
      if (out === null) {
        if (typeof tool.name === 'string') (droppedNames ??= new Set()).add(tool.name);
        continue;
      }
    }
    const upstreamName = (out.function as Obj).name as string;
    if (names.has(upstreamName)) throw new TranslationError(`${param}.name: duplicate tool name '${upstreamName}'`, `${param}.name`);
    names.add(upstreamName);
    tools.push(out);
  }
  return { tools, names, droppedNames };
}

/**
 * System text (the top-level `system`, or a system message's content at `param`) → chat system
 * content. Only text blocks are allowed there; others in a system message (Claude Code's
 * tool_addition / tool_removal of mid-conversation tool changes, and whatever comes next) go to
 * `dropped`, in the top-level system they are refused, as Anthropic's API refuses them.
 */
function systemToOpenAI(v: unknown, keep: boolean, param = 'system', dropped: Dropped | null = null): string | Obj[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  const blocks = expectArray(v, param);
  let text = '';
  let parts: Obj[] | undefined;
  for (let i = 0; i < blocks.length; i++) {
    const b = expectObj(blocks[i], `${param}[${i}]`);
    if (b.type !== 'text') {
      if (dropped !== null && typeof b.type === 'string') {
        dropped.item(`${param}[${i}]`, b.type);
        continue;
      }
      throw new TranslationError(`${param}[${i}]: only text blocks are allowed in system`, `${param}[${i}].type`);
    }
    const t = expectString(b.text, `${param}[${i}].text`);
    if (t.length === 0) continue;
    text = text.length === 0 ? t : `${text}\n\n${t}`;
    if (keep) (parts ??= []).push(withCache(b, { type: 'text', text: t }));
  }
  if (parts !== undefined && parts.some((p) => p.cache_control !== undefined)) return parts;
  return text.length > 0 ? text : undefined;
}

function withCache(src: Obj, part: Obj): Obj {
  if (isObj(src.cache_control)) part.cache_control = src.cache_control;
  return part;
}

type ThinkingHistory = 'drop' | 'reasoning_content' | 'thinking_blocks';

/** What the translation of one request's `messages` works with. */
export interface Conv {
  readonly namer: ToolNamer;
  readonly history: ThinkingHistory;
  /** Keep cache_control breakpoints (opts.keepCacheControl). */
  readonly keep: boolean;
  /** The chat messages being built. */
  readonly out: Obj[];
  readonly dropped: Dropped;
  /** System messages an assistant turn's tool calls hold back until their tool messages are out. */
  readonly deferred: Obj[];
}

/** tool_use ids of an assistant turn still waiting for their tool_result → where they were. */
export type PendingTools = Map<string, string>;

const IMAGE_NOTE = '(the tool returned image output; it follows in the next user message)';

function toolResultToOpenAI(block: Obj, i: number, k: number, pending: PendingTools | null, toolMsgs: Obj[], imageParts: Obj[], c: Conv): void {
  const id = block.tool_use_id;
  if (typeof id !== 'string') throw new TranslationError(`${at(i, k)}.tool_use_id: expected a string`, `${at(i, k)}.tool_use_id`);
  if (pending === null || !pending.delete(id)) {
    throw new TranslationError(
      `${at(i, k)}: tool_result for tool_use_id '${id}' matches no tool_use in the previous assistant message`,
      `${at(i, k)}.tool_use_id`,
    );
  }
  const content = block.content;
  let text = '';
  let images = 0;
  if (typeof content === 'string') text = content;
  else if (content !== undefined && content !== null) {
    const param = at(i, k);
    const parts = expectArray(content, `${param}.content`);
    for (let n = 0; n < parts.length; n++) {
      const p = expectObj(parts[n], `${param}.content[${n}]`);
      if (p.type === 'text') {
        const t = expectString(p.text, `${param}.content[${n}].text`);
        text = text.length === 0 ? t : `${text}\n${t}`;
      } else if (p.type === 'image') {
        imageParts.push(imageBlockToOpenAI(p, `${param}.content[${n}]`));
        images++;
      } else if (typeof p.type === 'string') {
        // search_result, document, tool_reference, …: a tool message carries text only.
        c.dropped.item(`${param}.content[${n}]`, p.type);
      } else {
        throw new TranslationError(`${param}.content[${n}].type: expected a string`, `${param}.content[${n}].type`);
      }
    }
  }
  if (images > 0) text = text.length === 0 ? IMAGE_NOTE : `${text}\n${IMAGE_NOTE}`;
  // The one place the translation reads what a long string says (not just its length): the
  // raw-body translation (gateway/raw-translation.ts) decodes these texts first. Another such read
  // of a text, content or description string needs the same there.
  if (block.is_error === true && !/^error\b/i.test(text)) text = `Error: ${text}`;
  const msg: Obj = { role: 'tool', tool_call_id: id, content: text };
  if (c.keep) withCache(block, msg);
  toolMsgs.push(msg);
}

/**
 * A system message inside `messages` (Claude Code's mid-conversation system messages, beta
 * mid-conversation-system-2026-04-07) → a chat system message, which chat accepts anywhere; null
 * when it has no text. Its other fields (clear_at, output_config) mean nothing to a chat model.
 */
function systemMessage(m: Obj, i: number, c: Conv): Obj | null {
  const content = systemToOpenAI(m.content, c.keep, `messages[${i}].content`, c.dropped);
  return content === undefined ? null : { role: 'system', content };
}

/** A chat user message of these parts: one text part without a breakpoint is sent as a string. */
function userMessage(parts: Obj[]): Obj {
  const only = parts[0]!;
  return { role: 'user', content: parts.length === 1 && only.type === 'text' && only.cache_control === undefined ? only.text : parts };
}

/**
 * One user turn: msgs[from..to) are its messages and the system messages among them. Tool
 * messages go first (chat wants them right after the assistant's tool calls), then `deferred`
 * (system messages that sat between those calls and this turn), then the turn's content, split
 * into one user message per stretch between system messages.
 */
function userTurn(msgs: unknown[], from: number, to: number, pending: PendingTools | null, c: Conv): void {
  const { out, keep, deferred } = c;
  const toolMsgs: Obj[] = [];
  const toolImages: Obj[] = [];
  let parts: Obj[] = [];
  // The content in order: parts arrays, with the system messages found between them.
  const seq: (Obj[] | Obj)[] = [parts];
  let users = 0;
  for (let i = from; i < to; i++) if ((msgs[i] as Obj).role === 'user') users++;
  for (let i = from; i < to; i++) {
    const m = msgs[i] as Obj;
    if (m.role === 'system') {
      const sm = systemMessage(m, i, c);
      if (sm === null) continue;
      parts = [];
      seq.push(sm, parts);
      continue;
    }
    const content = m.content;
    if (typeof content === 'string') {
      if (content.length > 0 || users === 1) parts.push({ type: 'text', text: content });
      continue;
    }
    const blocks = content as unknown[];
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k];
      if (!isObj(b)) throw new TranslationError(`${at(i, k)}: expected an object`, at(i, k));
      switch (b.type) {
        case 'text':
          if (typeof b.text !== 'string') throw new TranslationError(`${at(i, k)}.text: expected a string`, `${at(i, k)}.text`);
          parts.push(keep ? withCache(b, { type: 'text', text: b.text }) : { type: 'text', text: b.text });
          break;
        case 'image':
          parts.push(keep ? withCache(b, imageBlockToOpenAI(b, at(i, k))) : imageBlockToOpenAI(b, at(i, k)));
          break;
        case 'document':
          documentBlockToOpenAI(b, at(i, k), parts);
          break;
        case 'tool_result':
          toolResultToOpenAI(b, i, k, pending, toolMsgs, toolImages, c);
          break;
        default:
          unknownBlock(b, at(i, k), 'user', c.dropped);
      }
    }
  }
  if (pending !== null && pending.size > 0) missingResult(pending);
  for (let i = 0; i < toolMsgs.length; i++) out.push(toolMsgs[i]!);
  for (let i = 0; i < deferred.length; i++) out.push(deferred[i]!);
  deferred.length = 0;
  for (let k = 0; k < seq.length; k++) {
    const x = seq[k]!;
    if (!Array.isArray(x)) {
      out.push(x);
      continue;
    }
    const all = k === 0 && toolImages.length > 0 ? toolImages.concat(x) : x;
    if (all.length > 0) out.push(userMessage(all));
    else if (k === 0 && toolMsgs.length === 0 && !hasContent(seq)) out.push({ role: 'user', content: '' });
  }
}

function hasContent(seq: (Obj[] | Obj)[]): boolean {
  for (let k = 0; k < seq.length; k += 2) if ((seq[k] as Obj[]).length > 0) return true;
  return false;
}

/** JSON path of a content block; built only when it is needed (errors, rare block types). */
function at(i: number, k: number): string {
  return `messages[${i}].content[${k}]`;
}

function missingResult(pending: PendingTools): never {
  const [id, where] = pending.entries().next().value as [string, string];
  throw new TranslationError(
    `${where}: tool_use '${id}' has no tool_result in the next user message (every tool_use needs a tool_result right after it)`,
    where,
  );
}

/**
 * A block the chat message cannot hold. Blocks of a type Anthropic allows only in the other role
 * are refused, as Anthropic refuses them; the rest (server-tool blocks from a conversation that
 * was on Anthropic, search_result, types newer than this translator) are left out and listed.
 */
function unknownBlock(b: Obj, param: string, role: string, dropped: Dropped): void {
  const t = b.type;
  if (t === 'image' || t === 'document' || t === 'tool_result') {
    throw new TranslationError(`${param}: '${t}' blocks are only allowed in user messages`, `${param}.type`);
  }
  if (t === 'tool_use' || t === 'thinking' || t === 'redacted_thinking') {
    throw new TranslationError(`${param}: '${t}' blocks are only allowed in assistant messages`, `${param}.type`);
  }
  if (typeof t !== 'string') throw new TranslationError(`${param}.type: expected a string in a ${role} message's content block`, `${param}.type`);
  dropped.item(param, t);
}

/**
 * One assistant turn (msgs[from..to), system messages among them) → one assistant message. Its
 * system messages go to `deferred`: after the tool messages that must follow the tool calls.
 */
function assistantTurn(msgs: unknown[], from: number, to: number, c: Conv): PendingTools | null {
  const { namer, history, keep } = c;
  let text = '';
  let cachedParts: Obj[] | undefined; // text parts, kept only when a text block has a breakpoint
  let toolCalls: Obj[] | undefined;
  let pending: PendingTools | null = null;
  let reasoning = '';
  let thinkingBlocks: Obj[] | undefined;
  for (let i = from; i < to; i++) {
    const m = msgs[i] as Obj;
    if (m.role === 'system') {
      const sm = systemMessage(m, i, c);
      if (sm !== null) c.deferred.push(sm);
      continue;
    }
    const content = m.content;
    if (typeof content === 'string') {
      if (content.length > 0) text = text.length === 0 ? content : `${text}\n\n${content}`;
      continue;
    }
    const blocks = content as unknown[];
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k];
      if (!isObj(b)) throw new TranslationError(`${at(i, k)}: expected an object`, at(i, k));
      switch (b.type) {
        case 'text': {
          const t = b.text;
          if (typeof t !== 'string') throw new TranslationError(`${at(i, k)}.text: expected a string`, `${at(i, k)}.text`);
          if (t.length > 0) text = text.length === 0 ? t : `${text}\n\n${t}`;
          if (keep && t.length > 0) (cachedParts ??= []).push(withCache(b, { type: 'text', text: t }));
          break;
        }
        case 'tool_use': {
          const param = at(i, k);
          const id = expectString(b.id, `${param}.id`);
          if (id.length === 0) throw new TranslationError(`${param}.id: must not be empty`, `${param}.id`);
          const name = expectString(b.name, `${param}.name`);
          const input = b.input === undefined ? {} : expectObj(b.input, `${param}.input`);
          pending ??= new Map();
          if (pending.has(id)) throw new TranslationError(`${param}.id: duplicate tool_use id '${id}'`, `${param}.id`);
          pending.set(id, param);
          (toolCalls ??= []).push({ id, type: 'function', function: { name: namer.upstreamName(name), arguments: JSON.stringify(input) } });
          break;
        }
        case 'thinking':
          if (history !== 'drop') {
            const t = typeof b.thinking === 'string' ? b.thinking : '';
            if (t.length > 0) reasoning = reasoning.length === 0 ? t : `${reasoning}\n\n${t}`;
            if (history === 'thinking_blocks') (thinkingBlocks ??= []).push({ type: 'thinking', thinking: t, signature: typeof b.signature === 'string' ? b.signature : '' });
          }
          break;
        case 'redacted_thinking':
          if (history === 'thinking_blocks') (thinkingBlocks ??= []).push({ type: 'redacted_thinking', data: typeof b.data === 'string' ? b.data : '' });
          break;
        default:
          unknownBlock(b, at(i, k), 'assistant', c.dropped);
      }
    }
  }
  if (text.length === 0 && toolCalls === undefined) return null; // nothing OpenAI can carry
  const msg: Obj = { role: 'assistant', content: text.length > 0 ? text : null };
  if (cachedParts !== undefined && cachedParts.some((p) => p.cache_control !== undefined)) msg.content = cachedParts;
  if (toolCalls !== undefined) msg.tool_calls = toolCalls;
  if (reasoning.length > 0) msg.reasoning_content = reasoning;
  if (thinkingBlocks !== undefined) msg.thinking_blocks = thinkingBlocks;
  c.out.push(msg);
  return pending;
}

function messagesToOpenAI(v: unknown, c: Conv): void {
  if (v === undefined || v === null) throw new TranslationError('messages: required', 'messages');
  const msgs = expectArray(v, 'messages');
  if (msgs.length === 0) throw new TranslationError('messages: at least one message is required', 'messages');
  checkMessages(msgs, 0, msgs.length);
  const pending = translateTurns(msgs, 0, msgs.length, c);
  if (pending !== null && pending.size > 0) missingResult(pending);
}

/** Each of msgs[from..to) is an object with a known role and string or array content. */
export function checkMessages(msgs: unknown[], from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const m = msgs[k];
    if (!isObj(m)) throw new TranslationError(`messages[${k}]: expected an object`, `messages[${k}]`);
    if (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system') {
      throw new TranslationError(`messages[${k}].role: must be 'user', 'assistant' or 'system'`, `messages[${k}].role`);
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw new TranslationError(`messages[${k}].content: expected a string or an array of content blocks`, `messages[${k}].content`);
    }
  }
}

/**
 * The turns of msgs[from..to) (checked by checkMessages) into c.out; `from` starts a turn, with
 * nothing pending before it. Returns the tool calls of a last assistant turn still waiting for
 * their results. Index k of msgs is messages[k] of the body (paths in errors and notices).
 */
export function translateTurns(msgs: unknown[], from: number, to: number, c: Conv): PendingTools | null {
  let pending: PendingTools | null = null;
  let i = from;
  const { out, deferred } = c;
  while (i < to) {
    const role = (msgs[i] as Obj).role;
    if (role === 'system') {
      // Only before the first turn: a turn takes in the system messages that follow it.
      const sm = systemMessage(msgs[i] as Obj, i, c);
      if (sm !== null) out.push(sm);
      i++;
      continue;
    }
    // Consecutive messages of one role form one turn, as Anthropic's API treats them; system
    // messages among or right after them stay in that turn, in their place.
    let j = i + 1;
    while (j < to && ((msgs[j] as Obj).role === role || (msgs[j] as Obj).role === 'system')) j++;
    if (role === 'assistant') {
      pending = assistantTurn(msgs, i, j, c);
      if (pending === null || pending.size === 0) {
        for (let k = 0; k < deferred.length; k++) out.push(deferred[k]!);
        deferred.length = 0;
      }
    } else {
      userTurn(msgs, i, j, pending, c);
      pending = null;
    }
    i = j;
  }
  return pending;
}

function toolChoiceToOpenAI(v: unknown, tools: TranslatedTools, namer: ToolNamer, out: Obj, dropped: Dropped): void {
  const tc = expectObj(v, 'tool_choice');
  switch (tc.type) {
    case 'auto':
      out.tool_choice = 'auto';
      break;
    case 'any':
      out.tool_choice = 'required';
      break;
    case 'none':
      out.tool_choice = 'none';
      break;
    case 'tool': {
      const name = namer.upstreamName(expectString(tc.name, 'tool_choice.name'));
      if (!tools.names.has(name) && tools.droppedNames?.has(tc.name as string) === true) {
        dropped.item('tool_choice', 'tool');
        return;
      }
      if (!tools.names.has(name)) throw new TranslationError(`tool_choice.name: no tool named '${String(tc.name)}' in tools`, 'tool_choice.name');
      out.tool_choice = { type: 'function', function: { name } };
      break;
    }
    default:
      throw new TranslationError(`tool_choice.type: must be auto, any, tool or none (got '${String(tc.type)}')`, 'tool_choice.type');
  }
  if (tc.disable_parallel_tool_use === true && tc.type !== 'none') out.parallel_tool_calls = false;
}

function thinkingToOpenAI(body: Obj, out: Obj): void {
  const th = body.thinking;
  if (th === undefined || th === null) return;
  const t = expectObj(th, 'thinking');
  if (t.type === 'enabled') {
    const budget = optPositiveInt(t.budget_tokens, 'thinking.budget_tokens');
    if (budget === undefined) throw new TranslationError('thinking.budget_tokens: required when thinking is enabled', 'thinking.budget_tokens');
    out.reasoning_effort = effortFromBudget(budget);
  } else if (t.type === 'adaptive') {
    const oc = isObj(body.output_config) ? body.output_config : undefined;
    out.reasoning_effort = effortFromAnthropicEffort(oc?.effort) ?? 'medium';
  } else if (t.type !== 'disabled') {
    throw new TranslationError(`thinking.type: must be enabled, adaptive or disabled (got '${String(t.type)}')`, 'thinking.type');
  }
}

/** Anthropic structured output (`output_format` or `output_config.format`) → `response_format`. */
function outputFormatToOpenAI(body: Obj, out: Obj): void {
  let f = body.output_format;
  if (f === undefined && isObj(body.output_config)) f = body.output_config.format;
  if (f === undefined || f === null) return;
  const fo = expectObj(f, 'output_format');
  if (fo.type !== 'json_schema') throw new TranslationError(`output_format.type: only json_schema is supported (got '${String(fo.type)}')`, 'output_format.type');
  const schema = expectObj(fo.schema, 'output_format.schema');
  out.response_format = { type: 'json_schema', json_schema: { name: 'structured_output', schema } };
}

/**
 * OpenAI-compatible APIs bound `user`: OpenRouter, Zhipu and Doubao refuse more than 128
 * characters, OpenAI documents 64 for safety_identifier (its successor) and Bifrost caps `user`
 * at 64 for OpenAI. Claude Code's metadata.user_id is a JSON string of ~150 (device, account and
 * session ids), so passed on as it is the call fails with a 400. A longer id goes as its SHA-256
 * in hex, exactly 64 characters: as stable as the id itself, and opaque, as OpenAI asks ids to be.
 */
export const OPENAI_MAX_USER = 64;

function upstreamUser(id: string): string {
  return id.length <= OPENAI_MAX_USER ? id : createHash('sha256').update(id).digest('hex');
}

/**
 * Anthropic Messages request → OpenAI chat completions request. Returns the upstream body and the
 * context its response must be translated back with. Throws TranslationError on invalid input.
 */
export function anthropicToOpenAIChat(input: unknown, opts: AnthropicToOpenAIOptions): RequestTranslation<ToAnthropicContext> {
  const body = expectObj(input, 'body');
  const namer = new ToolNamer();
  const messages: Obj[] = [];
  const out: Obj = { model: opts.model, messages };

  const keep = opts.keepCacheControl === true;
  const dropped = opts.dropped ?? new Dropped();
  const system = systemToOpenAI(body.system, keep);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  const tools = toolsToOpenAI(body.tools, namer, opts.serverTools ?? 'drop', keep, dropped);
  (opts.messages ?? messagesToOpenAI)(body.messages, { namer, history: opts.thinkingHistory ?? 'drop', keep, out: messages, dropped, deferred: [] });

  let maxTokens = optPositiveInt(body.max_tokens, 'max_tokens');
  if (maxTokens !== undefined) {
    if (opts.maxTokensCap !== undefined && maxTokens > opts.maxTokensCap) maxTokens = opts.maxTokensCap;
    out[opts.maxTokensField ?? 'max_tokens'] = maxTokens;
  }
  const temperature = optNumber(body.temperature, 'temperature');
  if (temperature !== undefined) out.temperature = temperature;
  const topP = optNumber(body.top_p, 'top_p');
  if (topP !== undefined) out.top_p = topP;

  let stopSequences: string[] | undefined;
  if (body.stop_sequences !== undefined && body.stop_sequences !== null) {
    const list = expectArray(body.stop_sequences, 'stop_sequences');
    for (let i = 0; i < list.length; i++) expectString(list[i], `stop_sequences[${i}]`);
    if (list.length > 0) {
      stopSequences = list as string[];
      out.stop = stopSequences;
    }
  }
  if (isObj(body.metadata) && typeof body.metadata.user_id === 'string' && body.metadata.user_id.length > 0) {
    out.user = upstreamUser(body.metadata.user_id);
  }
  if (tools !== undefined && tools.tools.length > 0) {
    out.tools = tools.tools;
    if (body.tool_choice !== undefined && body.tool_choice !== null) toolChoiceToOpenAI(body.tool_choice, tools, namer, out, dropped);
  } else if (tools?.droppedNames !== undefined && isObj(body.tool_choice) && (body.tool_choice.type === 'tool' || body.tool_choice.type === 'any')) {
    dropped.item('tool_choice', body.tool_choice.type); // every tool it could choose was left out
  }
  thinkingToOpenAI(body, out);
  outputFormatToOpenAI(body, out);
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) {
    throw new TranslationError('mcp_servers: the MCP connector is an Anthropic API feature and cannot be used with this model', 'mcp_servers');
  }
  const stream = body.stream === true;
  if (stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }

  const ctx: ToAnthropicContext = { model: typeof body.model === 'string' ? body.model : opts.model };
  if (namer.map !== undefined) ctx.toolNames = namer.map;
  if (stopSequences !== undefined) ctx.stopSequences = stopSequences;
  if (stream) ctx.estimatedInputTokens = estimateTokens(body, opts.stringLength);
  return dropped.empty ? { body: out, ctx } : { body: out, ctx, dropped };
}
