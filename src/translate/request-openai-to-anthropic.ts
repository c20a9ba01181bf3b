// OpenAI chat completions request → Anthropic Messages request.
import { filePartToAnthropic, imagePartToAnthropic } from './content';
import type { RequestTranslation, ToOpenAIContext } from './context';
import { Dropped } from './dropped';
import { TranslationError } from './errors';
import { anthropicToolId, isValidToolName } from './names';
import { budgetFromEffort, MIN_THINKING_BUDGET } from './reasons';
import { expectArray, expectObj, expectString, isBlank, isObj, optNumber, optPositiveInt, type Obj } from './shape';

export interface OpenAIToAnthropicOptions {
  /** The model name to put in the upstream body (the deployment's model). */
  model: string;
  /** max_tokens when the client sent neither max_tokens nor max_completion_tokens (LiteLLM: 4096). */
  defaultMaxTokens?: number;
}

/** Anthropic's limit on tool names (OpenAI's is 64). */
const ANTHROPIC_MAX_TOOL_NAME = 128;
const JSON_OBJECT_INSTRUCTION = 'Respond only with a single valid JSON object.';

interface Turn {
  role: 'user' | 'assistant';
  /** tool_result blocks (user turns); Anthropic wants them before any other block. */
  results: Obj[];
  blocks: Obj[];
  /** tool_use id → JSON path of the tool call it came from (assistant turns). */
  toolIds: Map<string, string> | undefined;
  /** tool_use_id → JSON path of the tool message (user turns). */
  resultIds: Map<string, string> | undefined;
  /** How many of `blocks` are mid-conversation system text (they do not end a tool loop). */
  reminders: number;
}

class TurnBuilder {
  readonly turns: Turn[] = [];

  private turn(role: 'user' | 'assistant'): Turn {
    const last = this.turns[this.turns.length - 1];
    if (last !== undefined && last.role === role) return last; // consecutive same-role messages merge
    const t: Turn = { role, results: [], blocks: [], toolIds: undefined, resultIds: undefined, reminders: 0 };
    this.turns.push(t);
    return t;
  }

  add(role: 'user' | 'assistant', blocks: Obj[]): Turn | undefined {
    if (blocks.length === 0) return undefined;
    const t = this.turn(role);
    for (let i = 0; i < blocks.length; i++) t.blocks.push(blocks[i]!);
    return t;
  }

  /** A system message in the middle of the conversation: text at its place in the user turn there. */
  addReminder(blocks: Obj[]): void {
    const t = this.add('user', blocks);
    if (t !== undefined) t.reminders += blocks.length;
  }

  addResult(block: Obj, id: string, param: string): void {
    const t = this.turn('user');
    t.results.push(block);
    (t.resultIds ??= new Map()).set(id, param);
  }

  addToolUse(block: Obj, id: string, param: string): void {
    const t = this.turn('assistant');
    t.blocks.push(block);
    t.toolIds ??= new Map();
    if (t.toolIds.has(id)) throw new TranslationError(`${param}.id: duplicate tool call id '${id}'`, `${param}.id`);
    t.toolIds.set(id, param);
  }
}

/**
 * Prompt-cache breakpoints set by OpenAI-format clients that know they talk to Claude (Cline, the
 * LiteLLM SDK): `cache_control` on a content part, on a message (→ its last block) or on a tool.
 * Kept as they are — dropping them silently turns cache reads into full-price input.
 */
function keepCache(src: Obj, block: Obj): Obj {
  if (isObj(src.cache_control)) block.cache_control = src.cache_control;
  return block;
}

/** Content part types OpenAI defines: one of them where OpenAI refuses it is refused here too. */
const OPENAI_PARTS: ReadonlySet<unknown> = new Set(['text', 'image_url', 'input_audio', 'file', 'refusal']);

/**
 * A part this message cannot carry to Anthropic. One of OpenAI's own types where OpenAI does not
 * allow it is refused, as OpenAI refuses it; a type OpenAI added after this translator is left out
 * and named in `dropped` (refusing it would refuse a request OpenAI serves).
 */
function otherPart(p: Obj, param: string, what: string, dropped: Dropped): void {
  if (typeof p.type !== 'string') throw new TranslationError(`${param}.type: expected a string`, `${param}.type`);
  if (OPENAI_PARTS.has(p.type)) throw new TranslationError(`${param}: ${what} (got '${p.type}')`, `${param}.type`);
  dropped.item(param, p.type);
}

/** Text content (string or text / refusal parts) → text blocks, one per non-empty part. */
function textBlocks(v: unknown, param: string, allowRefusal: boolean, out: Obj[], dropped: Dropped): void {
  if (typeof v === 'string') {
    if (v.length > 0) out.push({ type: 'text', text: v });
    return;
  }
  if (v === null || v === undefined) return;
  const parts = expectArray(v, param);
  for (let i = 0; i < parts.length; i++) {
    const p = expectObj(parts[i], `${param}[${i}]`);
    let t: string;
    if (p.type === 'text') t = expectString(p.text, `${param}[${i}].text`);
    else if (allowRefusal && p.type === 'refusal') t = expectString(p.refusal, `${param}[${i}].refusal`);
    else {
      otherPart(p, `${param}[${i}]`, 'only text parts are allowed here', dropped);
      continue;
    }
    if (t.length > 0) out.push(keepCache(p, { type: 'text', text: t }));
  }
}

function userBlocks(v: unknown, param: string, dropped: Dropped): Obj[] {
  if (typeof v === 'string') return v.length > 0 ? [{ type: 'text', text: v }] : [];
  if (v === null || v === undefined) return [];
  const parts = expectArray(v, param);
  const out: Obj[] = [];
  for (let i = 0; i < parts.length; i++) {
    const pp = `${param}[${i}]`;
    const p = expectObj(parts[i], pp);
    switch (p.type) {
      case 'text': {
        const t = expectString(p.text, `${pp}.text`);
        if (t.length > 0) out.push(keepCache(p, { type: 'text', text: t }));
        break;
      }
      case 'image_url':
        out.push(keepCache(p, imagePartToAnthropic(p, pp)));
        break;
      case 'file':
        out.push(keepCache(p, filePartToAnthropic(p, pp)));
        break;
      default:
        // input_audio (Anthropic takes no audio) and types newer than this translator.
        if (typeof p.type !== 'string') throw new TranslationError(`${pp}.type: expected a string`, `${pp}.type`);
        dropped.item(pp, p.type);
    }
  }
  return out;
}

/** A message-level cache_control marks the message's last block. */
function messageCache(m: Obj, blocks: Obj[]): void {
  if (isObj(m.cache_control) && blocks.length > 0) blocks[blocks.length - 1]!.cache_control = m.cache_control;
}

function toolResultContent(v: unknown, param: string, dropped: Dropped): unknown {
  if (typeof v === 'string') return v.length > 0 ? v : undefined;
  if (v === null || v === undefined) return undefined;
  const parts = expectArray(v, param);
  const out: Obj[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = expectObj(parts[i], `${param}[${i}]`);
    if (p.type === 'text') {
      const t = expectString(p.text, `${param}[${i}].text`);
      if (t.length > 0) out.push(keepCache(p, { type: 'text', text: t }));
    } else if (p.type === 'image_url') out.push(keepCache(p, imagePartToAnthropic(p, `${param}[${i}]`)));
    else otherPart(p, `${param}[${i}]`, 'unsupported part type in a tool message', dropped);
  }
  return out.length > 0 ? out : undefined;
}

function parseArguments(v: unknown, param: string): Obj {
  if (v === undefined || v === null) return {};
  const s = expectString(v, param);
  if (isBlank(s)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch (e) {
    throw new TranslationError(`${param}: tool call arguments are not valid JSON (${(e as Error).message})`, param);
  }
  if (!isObj(parsed)) throw new TranslationError(`${param}: tool call arguments must be a JSON object`, param);
  return parsed;
}

/** LiteLLM-shaped `thinking_blocks` on an assistant message → Anthropic blocks (signed ones only). */
function thinkingBlocks(v: unknown, out: Obj[]): void {
  if (!Array.isArray(v)) return;
  for (const b of v) {
    if (!isObj(b)) continue;
    if (b.type === 'thinking' && typeof b.signature === 'string' && b.signature.length > 0) {
      out.push({ type: 'thinking', thinking: typeof b.thinking === 'string' ? b.thinking : '', signature: b.signature });
    } else if (b.type === 'redacted_thinking' && typeof b.data === 'string') {
      out.push({ type: 'redacted_thinking', data: b.data });
    }
  }
}

interface Conversation {
  system: Obj[];
  turns: Turn[];
}

/**
 * A system or developer message after the conversation started. Anthropic takes system messages
 * inside `messages` only with a beta (mid-conversation-system-2026-04-07) that OpenAI-format
 * clients do not send, and hoisting it into `system` would both move it to the start (a reminder
 * meant "from here on" would read as given from the first turn) and change the prompt's prefix,
 * turning every prompt-cache read after it into a full-price write. So it stays where it is, as
 * user-turn text tagged the way Claude Code tags its own reminders when system turns are not
 * available.
 */
function reminderBlocks(blocks: Obj[]): Obj[] {
  for (let i = 0; i < blocks.length; i++) blocks[i]!.text = `<system-reminder>\n${blocks[i]!.text as string}\n</system-reminder>`;
  return blocks;
}

function messagesToAnthropic(v: unknown, dropped: Dropped): Conversation {
  if (v === undefined || v === null) throw new TranslationError('messages: required', 'messages');
  const msgs = expectArray(v, 'messages');
  if (msgs.length === 0) throw new TranslationError('messages: at least one message is required', 'messages');
  const system: Obj[] = [];
  const b = new TurnBuilder();
  let lastFunctionCall: { name: string; id: string } | undefined;
  /** Ids of tool calls left out (custom and newer types): the tool messages answering them go too. */
  let droppedCalls: Set<string> | undefined;
  for (let i = 0; i < msgs.length; i++) {
    const param = `messages[${i}]`;
    const m = expectObj(msgs[i], param);
    switch (m.role) {
      case 'system':
      case 'developer': {
        const blocks: Obj[] = [];
        textBlocks(m.content, `${param}.content`, false, blocks, dropped);
        messageCache(m, blocks);
        // Before the first turn: the system prompt. Later: in place (reminderBlocks says why).
        if (b.turns.length === 0) for (let k = 0; k < blocks.length; k++) system.push(blocks[k]!);
        else b.addReminder(reminderBlocks(blocks));
        break;
      }
      case 'user': {
        const blocks = userBlocks(m.content, `${param}.content`, dropped);
        messageCache(m, blocks);
        b.add('user', blocks);
        break;
      }
      case 'assistant': {
        const blocks: Obj[] = [];
        thinkingBlocks(m.thinking_blocks, blocks);
        const thinking = blocks.length;
        textBlocks(m.content, `${param}.content`, true, blocks, dropped);
        if (blocks.length === thinking && typeof m.refusal === 'string' && m.refusal.length > 0) blocks.push({ type: 'text', text: m.refusal });
        const uses: { block: Obj; id: string; param: string }[] = [];
        if (m.tool_calls !== undefined && m.tool_calls !== null) {
          const calls = expectArray(m.tool_calls, `${param}.tool_calls`);
          for (let j = 0; j < calls.length; j++) {
            const cp = `${param}.tool_calls[${j}]`;
            const c = expectObj(calls[j], cp);
            if (c.type !== undefined && c.type !== 'function') {
              // A custom (freeform) tool call: its tool is not offered either (toolsToAnthropic).
              dropped.item(cp, c.type);
              if (typeof c.id === 'string') (droppedCalls ??= new Set()).add(c.id);
              continue;
            }
            const fn = expectObj(c.function, `${cp}.function`);
            const name = expectString(fn.name, `${cp}.function.name`);
            const rawId = expectString(c.id, `${cp}.id`);
            const id = anthropicToolId(rawId);
            const input = parseArguments(fn.arguments, `${cp}.function.arguments`);
            uses.push({ block: { type: 'tool_use', id, name, input }, id, param: cp });
          }
        } else if (isObj(m.function_call)) {
          // Legacy function calling: one call per message, answered by a `function` message.
          const fn = m.function_call;
          const name = expectString(fn.name, `${param}.function_call.name`);
          const id = `call_fn_${i}`;
          uses.push({ block: { type: 'tool_use', id, name, input: parseArguments(fn.arguments, `${param}.function_call.arguments`) }, id, param: `${param}.function_call` });
          lastFunctionCall = { name, id };
        }
        if (uses.length > 0) messageCache(m, [uses[uses.length - 1]!.block]);
        else messageCache(m, blocks);
        b.add('assistant', blocks);
        for (let k = 0; k < uses.length; k++) b.addToolUse(uses[k]!.block, uses[k]!.id, uses[k]!.param);
        break;
      }
      case 'tool': {
        const callId = expectString(m.tool_call_id, `${param}.tool_call_id`);
        if (droppedCalls?.has(callId) === true) {
          dropped.item(param, 'tool');
          break;
        }
        const id = anthropicToolId(callId);
        const block: Obj = { type: 'tool_result', tool_use_id: id };
        const content = toolResultContent(m.content, `${param}.content`, dropped);
        if (content !== undefined) block.content = content;
        keepCache(m, block);
        b.addResult(block, id, `${param}.tool_call_id`);
        break;
      }
      case 'function': {
        const name = expectString(m.name, `${param}.name`);
        if (lastFunctionCall === undefined || lastFunctionCall.name !== name) {
          throw new TranslationError(`${param}: function message for '${name}' follows no assistant function_call of that name`, `${param}.name`);
        }
        const block: Obj = { type: 'tool_result', tool_use_id: lastFunctionCall.id };
        const content = toolResultContent(m.content, `${param}.content`, dropped);
        if (content !== undefined) block.content = content;
        b.addResult(block, lastFunctionCall.id, param);
        lastFunctionCall = undefined;
        break;
      }
      default:
        throw new TranslationError(`${param}.role: unknown role '${String(m.role)}'`, `${param}.role`);
    }
  }
  const turns = b.turns;
  if (turns.length === 0) throw new TranslationError('messages: there must be at least one user or assistant message with content', 'messages');
  checkToolPairs(turns);
  return { system, turns };
}

/** Every tool call is answered in the next user turn, and every tool message answers one. */
function checkToolPairs(turns: Turn[]): void {
  for (let t = 0; t < turns.length; t++) {
    const turn = turns[t]!;
    if (turn.role === 'assistant') {
      if (turn.toolIds === undefined) continue;
      const next = turns[t + 1];
      for (const [id, where] of turn.toolIds) {
        if (next === undefined || next.resultIds === undefined || !next.resultIds.has(id)) {
          throw new TranslationError(`${where}: tool call '${id}' has no tool message answering it right after the assistant message`, where);
        }
      }
    } else if (turn.resultIds !== undefined) {
      const prev = turns[t - 1];
      for (const [id, where] of turn.resultIds) {
        if (prev === undefined || prev.toolIds === undefined || !prev.toolIds.has(id)) {
          throw new TranslationError(`${where}: tool message for '${id}' matches no tool call in the preceding assistant message`, where);
        }
      }
    }
  }
}

interface ToolInfo {
  names: Set<string>;
  tools: Obj[];
  /** Names of the tools left out (a tool_choice naming one is left out too). */
  droppedNames?: Set<string>;
}

function functionToTool(fnv: unknown, param: string, info: ToolInfo, cacheFrom?: Obj): void {
  const fn = expectObj(fnv, param);
  const name = expectString(fn.name, `${param}.name`);
  if (name.length > ANTHROPIC_MAX_TOOL_NAME || !isValidToolName(name)) {
    throw new TranslationError(`${param}.name: '${name}' is not a valid tool name (1-${ANTHROPIC_MAX_TOOL_NAME} letters, digits, _ or -)`, `${param}.name`);
  }
  if (info.names.has(name)) throw new TranslationError(`${param}.name: duplicate tool name '${name}'`, `${param}.name`);
  let schema: Obj;
  const p = fn.parameters;
  if (p === undefined || p === null) schema = { type: 'object', properties: {} };
  else if (!isObj(p)) throw new TranslationError(`${param}.parameters: must be a JSON Schema object`, `${param}.parameters`);
  else if (p.type === undefined) schema = { type: 'object', ...p };
  else if (p.type !== 'object') throw new TranslationError(`${param}.parameters.type: must be "object" (got ${JSON.stringify(p.type)})`, `${param}.parameters.type`);
  else schema = p;
  const tool: Obj = { name };
  if (typeof fn.description === 'string' && fn.description.length > 0) tool.description = fn.description;
  tool.input_schema = schema;
  if (cacheFrom !== undefined) keepCache(cacheFrom, tool);
  info.names.add(name);
  info.tools.push(tool);
}

function toolsToAnthropic(body: Obj, dropped: Dropped): ToolInfo | undefined {
  const info: ToolInfo = { names: new Set(), tools: [] };
  if (body.tools !== undefined && body.tools !== null) {
    const list = expectArray(body.tools, 'tools');
    for (let i = 0; i < list.length; i++) {
      const t = expectObj(list[i], `tools[${i}]`);
      if (t.type !== 'function') {
        // custom (freeform) tools, hosted tools, and types newer than this translator.
        if (typeof t.type !== 'string') throw new TranslationError(`tools[${i}].type: expected a string`, `tools[${i}].type`);
        dropped.tool(t.type);
        const inner = t[t.type];
        const name = isObj(inner) ? inner.name : t.name;
        if (typeof name === 'string') (info.droppedNames ??= new Set()).add(name);
        continue;
      }
      functionToTool(t.function, `tools[${i}].function`, info, t);
    }
  }
  if (Array.isArray(body.functions)) {
    for (let i = 0; i < body.functions.length; i++) functionToTool(body.functions[i], `functions[${i}]`, info);
  }
  return info.tools.length > 0 ? info : undefined;
}

function toolChoiceToAnthropic(body: Obj, info: ToolInfo, dropped: Dropped): Obj | undefined {
  let tc: Obj | undefined;
  const param = body.tool_choice !== undefined ? 'tool_choice' : 'function_call';
  const v = body.tool_choice !== undefined ? body.tool_choice : body.function_call;
  if (v === 'auto') tc = { type: 'auto' };
  else if (v === 'required') tc = { type: 'any' };
  else if (v === 'none') tc = { type: 'none' };
  else if (isObj(v) && v.type === 'allowed_tools') {
    // The subset cannot be expressed; its mode can (the model sees all the tools).
    tc = isObj(v.allowed_tools) && v.allowed_tools.mode === 'required' ? { type: 'any' } : { type: 'auto' };
  } else if (isObj(v)) {
    // {type:'function', function:{name}}, {type:'custom', custom:{name}}, or legacy {name}
    const inner = typeof v.type === 'string' ? v[v.type] : undefined;
    const name = isObj(inner) ? inner.name : v.name;
    if (typeof name !== 'string') throw new TranslationError(`${param}: expected 'auto', 'none', 'required' or a function to call`, param);
    if (!info.names.has(name) && info.droppedNames?.has(name) === true) dropped.item(param, v.type ?? 'function');
    else if (!info.names.has(name)) throw new TranslationError(`${param}: no tool named '${name}' in tools`, param);
    else tc = { type: 'tool', name };
  } else if (v !== undefined && v !== null) {
    throw new TranslationError(`${param}: expected 'auto', 'none', 'required' or a function to call`, param);
  }
  if (body.parallel_tool_calls === false && (tc === undefined || tc.type !== 'none')) {
    tc ??= { type: 'auto' };
    tc.disable_parallel_tool_use = true;
  }
  return tc;
}

/** thinking budget requested by `reasoning_effort` (or a LiteLLM-style `thinking` param), or null. */
function requestedBudget(body: Obj): number | null {
  if (isObj(body.thinking)) {
    if (body.thinking.type !== 'enabled') return null;
    const b = optPositiveInt(body.thinking.budget_tokens, 'thinking.budget_tokens');
    return b ?? budgetFromEffort('medium')!;
  }
  const e = body.reasoning_effort;
  if (e === undefined || e === null) return null;
  const effort = expectString(isObj(e) ? e.effort : e, 'reasoning_effort');
  const b = budgetFromEffort(effort);
  if (b === undefined) throw new TranslationError(`reasoning_effort: unknown value '${effort}'`, 'reasoning_effort');
  return b;
}

/**
 * Anthropic refuses thinking when the assistant turn now being continued (its tool results are the
 * last user turn) called tools without a thinking block first — a history written by a model that
 * did not think. Thinking is then left off for this request.
 */
function historyAllowsThinking(turns: Turn[]): boolean {
  const last = turns[turns.length - 1]!;
  if (last.role !== 'user' || last.blocks.length > last.reminders || last.results.length === 0) return true;
  const prev = turns[turns.length - 2];
  if (prev === undefined || prev.role !== 'assistant') return true;
  const first = prev.blocks[0];
  return first !== undefined && (first.type === 'thinking' || first.type === 'redacted_thinking');
}

/**
 * OpenAI chat completions request → Anthropic Messages request. Returns the upstream body and the
 * context its response must be translated back with. Throws TranslationError on invalid input.
 */
export function openAIChatToAnthropic(input: unknown, opts: OpenAIToAnthropicOptions): RequestTranslation<ToOpenAIContext> {
  const body = expectObj(input, 'body');
  if (typeof body.n === 'number' && body.n > 1) throw new TranslationError('n: Anthropic models return one choice; n must be 1', 'n');
  const dropped = new Dropped();
  const { system, turns } = messagesToAnthropic(body.messages, dropped);
  const tools = toolsToAnthropic(body, dropped);

  const explicitMax = optPositiveInt(body.max_completion_tokens, 'max_completion_tokens') ?? optPositiveInt(body.max_tokens, 'max_tokens');
  let maxTokens = explicitMax ?? opts.defaultMaxTokens ?? 4096;
  let budget = requestedBudget(body);
  if (budget !== null && explicitMax !== undefined && budget >= maxTokens) budget = maxTokens - 1;
  if (budget !== null && (budget < MIN_THINKING_BUDGET || !historyAllowsThinking(turns))) budget = null;
  if (budget !== null && explicitMax === undefined) maxTokens += budget; // the default is the answer's room; thinking comes on top

  const responseFormat = isObj(body.response_format) ? body.response_format : undefined;
  if (responseFormat?.type === 'json_object') system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION });

  const messages: Obj[] = new Array(turns.length);
  for (let i = 0; i < turns.length; i++) {
    const t = turns[i]!;
    messages[i] = { role: t.role, content: t.results.length > 0 ? t.results.concat(t.blocks) : t.blocks };
  }
  const out: Obj = { model: opts.model, max_tokens: maxTokens };
  if (system.length > 0) out.system = system;
  out.messages = messages;
  if (tools !== undefined) {
    out.tools = tools.tools;
    const tc = toolChoiceToAnthropic(body, tools, dropped);
    if (tc !== undefined) out.tool_choice = tc;
  }

  if (body.stop !== undefined && body.stop !== null) {
    const list = typeof body.stop === 'string' ? [body.stop] : expectArray(body.stop, 'stop');
    const stops: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const s = expectString(list[i], `stop[${i}]`);
      if (!isBlank(s)) stops.push(s); // Anthropic refuses whitespace-only stop sequences
    }
    if (stops.length > 0) out.stop_sequences = stops;
  }
  let temperature = optNumber(body.temperature, 'temperature');
  if (temperature !== undefined && temperature > 1) temperature = 1; // OpenAI's range is 0-2, Anthropic's 0-1
  const topP = optNumber(body.top_p, 'top_p');
  if (budget !== null) {
    // With thinking Anthropic accepts temperature 1 only and top_p ≥ 0.95.
    if (temperature !== undefined && temperature === 1) out.temperature = 1;
    if (topP !== undefined && topP >= 0.95) out.top_p = topP;
  } else {
    if (temperature !== undefined) out.temperature = temperature;
    if (topP !== undefined) out.top_p = topP;
  }
  if (typeof body.user === 'string' && body.user.length > 0) out.metadata = { user_id: body.user };
  if (budget !== null) out.thinking = { type: 'enabled', budget_tokens: budget };
  if (responseFormat?.type === 'json_schema') {
    const js = expectObj(responseFormat.json_schema, 'response_format.json_schema');
    out.output_config = { format: { type: 'json_schema', schema: expectObj(js.schema, 'response_format.json_schema.schema') } };
  }
  const stream = body.stream === true;
  if (stream) out.stream = true;

  const ctx: ToOpenAIContext = { model: typeof body.model === 'string' ? body.model : opts.model };
  if (stream && isObj(body.stream_options) && body.stream_options.include_usage === true) ctx.includeUsage = true;
  return dropped.empty ? { body: out, ctx } : { body: out, ctx, dropped };
}
