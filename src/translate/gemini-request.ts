// OpenAI chat completions request → Gemini `generateContent` request (Vertex AI and AI Studio
// take the same body). Anthropic clients reach Gemini through chat: anthropicToOpenAIChat first,
// then this (gateway/translation.ts), with the Anthropic thinking budget passed on as it is.
//
// Mapping, after LiteLLM's litellm/llms/vertex_ai/gemini/transformation.py:
//  - system / developer messages before the first turn → systemInstruction.parts; later ones stay
//    in place as user text (moving them would change the prompt prefix Gemini caches).
//  - user → role `user`, assistant → role `model`; consecutive turns of one role are merged
//    (Gemini wants them alternating). Text → {text}; image_url data: URLs → inlineData, http(s) and
//    gs:// URLs → fileData (mime type from the extension); input_audio → inlineData; file parts →
//    inlineData / fileData. Other part types are left out and named (Dropped).
//  - assistant tool_calls → functionCall {name, args}; tool messages → functionResponse {name,
//    response: {content}} in one user turn, the name found from the call's id. A call id Weir made
//    from a Gemini answer carries the part's thoughtSignature (`call_…__thought__<base64url>`,
//    LiteLLM's convention): it is sent back on the part, as Gemini 3 requires.
//  - reasoning_content / thinking_blocks in the history are dropped (Gemini's are signed parts).
//  - tools (function) → one `functionDeclarations` tool, parameters cleaned (gemini-schema.ts);
//    other tool types are left out and named. tool_choice: auto → AUTO, required → ANY, none →
//    NONE, a named function → ANY with allowedFunctionNames.
//  - generationConfig: temperature, top_p → topP, top_k → topK, max_completion_tokens /
//    max_tokens → maxOutputTokens, stop → stopSequences, n → candidateCount, presence_penalty,
//    frequency_penalty, seed, response_format (json_object → responseMimeType application/json;
//    json_schema → responseSchema too), reasoning_effort or a LiteLLM-style `thinking` →
//    thinkingConfig {thinkingBudget, includeThoughts}.
import { Dropped } from './dropped';
import { parseDataUrl } from './content';
import { TranslationError } from './errors';
import { geminiSchema } from './gemini-schema';
import { ToolNamer, type ToolNameMap } from './names';
import { expectArray, expectObj, expectString, isObj, optNumber, optPositiveInt, type Obj } from './shape';

/** What the answer's translation needs (gemini-response.ts, gemini-stream.ts). */
export interface GeminiContext {
  /** The model name the client asked for; echoed in `model`. */
  model: string;
  toolNames?: ToolNameMap;
  /** The client sent stream_options.include_usage (chat streams end with a usage chunk then). */
  includeUsage?: boolean;
}

export interface ChatToGeminiOptions {
  /** An explicit thinking budget (an Anthropic client's `thinking.budget_tokens`); 0 turns thinking off. */
  thinkingBudget?: number;
}

/** Separates a tool call id Weir made from the thoughtSignature it carries. */
export const THOUGHT_MARK = '__thought__';

/** reasoning_effort → thinkingBudget, LiteLLM's values; `none` → 0 (off). */
const EFFORT_BUDGET: Record<string, number> = { none: 0, disable: 0, minimal: 128, low: 1024, medium: 2048, high: 4096, xhigh: 8192, max: 8192, ultra: 8192 };

const MIME_BY_EXT: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic',
  pdf: 'application/pdf', txt: 'text/plain', mp3: 'audio/mp3', wav: 'audio/wav', mp4: 'video/mp4', mov: 'video/mov',
};

function mimeFromUrl(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0]!;
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : MIME_BY_EXT[path.slice(dot + 1).toLowerCase()];
}

function urlPart(url: string, format: unknown, param: string): Obj {
  if (url.startsWith('data:')) {
    const d = parseDataUrl(url, param);
    return { inlineData: { mimeType: typeof format === 'string' ? format : d.mediaType, data: d.data } };
  }
  if (!/^(https?|gs):\/\//.test(url)) throw new TranslationError(`${param}: expected a data:, http(s) or gs:// URL`, param);
  const mimeType = typeof format === 'string' ? format : (mimeFromUrl(url) ?? 'image/jpeg');
  return { fileData: { mimeType, fileUri: url } };
}

/** User (or system-in-place) content → Gemini parts. */
function userParts(content: unknown, param: string, dropped: Dropped): Obj[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (content === null || content === undefined) return [];
  const list = expectArray(content, param);
  const parts: Obj[] = [];
  for (let i = 0; i < list.length; i++) {
    const p = expectObj(list[i], `${param}[${i}]`);
    const at = `${param}[${i}]`;
    switch (p.type) {
      case 'text':
        if (typeof p.text === 'string' && p.text.length > 0) parts.push({ text: p.text });
        break;
      case 'image_url': {
        const iu = p.image_url;
        const url = isObj(iu) ? iu.url : iu;
        parts.push(urlPart(expectString(url, `${at}.image_url.url`), isObj(iu) ? iu.format : undefined, at));
        break;
      }
      case 'input_audio': {
        const a = expectObj(p.input_audio, `${at}.input_audio`);
        parts.push({ inlineData: { mimeType: `audio/${typeof a.format === 'string' ? a.format : 'wav'}`, data: expectString(a.data, `${at}.input_audio.data`) } });
        break;
      }
      case 'file': {
        const f = expectObj(p.file, `${at}.file`);
        const src = typeof f.file_data === 'string' ? f.file_data : typeof f.file_id === 'string' ? f.file_id : null;
        if (src === null) throw new TranslationError(`${at}.file: expected file_data or file_id`, at);
        parts.push(urlPart(src, f.format, at));
        break;
      }
      default:
        dropped.item(at, p.type);
    }
  }
  return parts;
}

function assistantText(content: unknown, param: string): Obj[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  if (!Array.isArray(content)) return [];
  const parts: Obj[] = [];
  for (let i = 0; i < content.length; i++) {
    const p = content[i];
    if (isObj(p) && p.type === 'text' && typeof p.text === 'string' && p.text.length > 0) parts.push({ text: p.text });
    else if (isObj(p) && p.type === 'refusal' && typeof p.refusal === 'string') parts.push({ text: p.refusal });
    else if (!isObj(p)) throw new TranslationError(`${param}[${i}]: expected an object`, `${param}[${i}]`);
  }
  return parts;
}

/** The text a tool message carries (strings, or text parts joined). */
function toolText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === null || content === undefined ? '' : JSON.stringify(content);
  let s = '';
  for (const p of content) if (isObj(p) && typeof p.text === 'string') s += (s ? '\n' : '') + p.text;
  return s;
}

/** A tool call's id → the functionCall part (with its thought signature when the id carries one). */
function callPart(call: Obj, param: string, namer: ToolNamer, names: Map<string, string>): Obj {
  const fn = expectObj(call.function, `${param}.function`);
  const name = namer.upstreamName(expectString(fn.name, `${param}.function.name`));
  const rawArgs = fn.arguments;
  let args: unknown = {};
  if (typeof rawArgs === 'string' && rawArgs.trim() !== '') {
    try {
      args = JSON.parse(rawArgs);
    } catch {
      throw new TranslationError(`${param}.function.arguments: not valid JSON`, `${param}.function.arguments`);
    }
  } else if (isObj(rawArgs)) args = rawArgs;
  if (!isObj(args)) throw new TranslationError(`${param}.function.arguments: expected a JSON object`, `${param}.function.arguments`);
  const part: Obj = { functionCall: { name, args } };
  if (typeof call.id === 'string') {
    names.set(call.id, name);
    const mark = call.id.indexOf(THOUGHT_MARK);
    if (mark >= 0) part.thoughtSignature = Buffer.from(call.id.slice(mark + THOUGHT_MARK.length), 'base64url').toString('base64');
  }
  return part;
}

interface Turn {
  role: 'user' | 'model';
  parts: Obj[];
}

function pushParts(turns: Turn[], role: 'user' | 'model', parts: Obj[]): void {
  if (parts.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else turns.push({ role, parts });
}

function toolsToGemini(tools: unknown, namer: ToolNamer, dropped: Dropped): Obj[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  const list = expectArray(tools, 'tools');
  const decls: Obj[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = expectObj(list[i], `tools[${i}]`);
    if (t.type !== 'function') {
      dropped.tool(typeof t.type === 'string' ? t.type : '?');
      continue;
    }
    const fn = expectObj(t.function, `tools[${i}].function`);
    const decl: Obj = { name: namer.upstreamName(expectString(fn.name, `tools[${i}].function.name`)) };
    if (typeof fn.description === 'string' && fn.description.length > 0) decl.description = fn.description;
    if (fn.parameters !== undefined && fn.parameters !== null && !isObj(fn.parameters)) {
      throw new TranslationError(`tools[${i}].function.parameters: expected a JSON schema object`, `tools[${i}].function.parameters`);
    }
    const params = geminiSchema(fn.parameters);
    if (params) decl.parameters = params;
    decls.push(decl);
  }
  return decls.length > 0 ? [{ functionDeclarations: decls }] : undefined;
}

function toolConfig(choice: unknown, namer: ToolNamer): Obj | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (isObj(choice) && isObj(choice.function) && typeof choice.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [namer.upstreamName(choice.function.name)] } };
  }
  throw new TranslationError(`tool_choice: expected "auto", "required", "none" or {type: "function", function: {name}}`, 'tool_choice');
}

function generationConfig(body: Obj, opts: ChatToGeminiOptions): Obj {
  const g: Obj = {};
  const temperature = optNumber(body.temperature, 'temperature');
  if (temperature !== undefined) g.temperature = temperature;
  const topP = optNumber(body.top_p, 'top_p');
  if (topP !== undefined) g.topP = topP;
  const topK = optNumber(body.top_k, 'top_k');
  if (topK !== undefined) g.topK = topK;
  const max = optPositiveInt(body.max_completion_tokens, 'max_completion_tokens') ?? optPositiveInt(body.max_tokens, 'max_tokens');
  if (max !== undefined) g.maxOutputTokens = max;
  if (typeof body.stop === 'string') g.stopSequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length > 0) g.stopSequences = body.stop.filter((s) => typeof s === 'string');
  const n = optPositiveInt(body.n, 'n');
  if (n !== undefined && n > 1) g.candidateCount = n;
  const pp = optNumber(body.presence_penalty, 'presence_penalty');
  if (pp !== undefined) g.presencePenalty = pp;
  const fp = optNumber(body.frequency_penalty, 'frequency_penalty');
  if (fp !== undefined) g.frequencyPenalty = fp;
  if (typeof body.seed === 'number') g.seed = body.seed;
  const rf = body.response_format;
  if (isObj(rf)) {
    if (rf.type === 'json_object') g.responseMimeType = 'application/json';
    else if (rf.type === 'json_schema') {
      g.responseMimeType = 'application/json';
      const schema = isObj(rf.json_schema) ? geminiSchema(rf.json_schema.schema) : undefined;
      if (schema) g.responseSchema = schema;
    }
  }
  let budget = opts.thinkingBudget;
  if (budget === undefined && isObj(body.thinking)) {
    budget = body.thinking.type === 'disabled' ? 0 : typeof body.thinking.budget_tokens === 'number' ? body.thinking.budget_tokens : undefined;
  }
  if (budget === undefined && typeof body.reasoning_effort === 'string') {
    budget = EFFORT_BUDGET[body.reasoning_effort];
    if (budget === undefined) throw new TranslationError(`reasoning_effort: unknown value '${body.reasoning_effort}'`, 'reasoning_effort');
  }
  if (budget !== undefined) g.thinkingConfig = budget > 0 ? { thinkingBudget: budget, includeThoughts: true } : { thinkingBudget: 0 };
  return g;
}

export function chatToGemini(input: unknown, model: string, opts: ChatToGeminiOptions = {}): { body: Obj; ctx: GeminiContext; dropped?: Dropped } {
  const body = expectObj(input, 'body');
  const messages = expectArray(body.messages, 'messages');
  if (messages.length === 0) throw new TranslationError('messages: at least one message is required', 'messages');
  const dropped = new Dropped();
  const namer = new ToolNamer();
  const system: Obj[] = [];
  const turns: Turn[] = [];
  /** Tool call id → function name, from the assistant turns seen so far. */
  const names = new Map<string, string>();
  for (let i = 0; i < messages.length; i++) {
    const param = `messages[${i}]`;
    const m = expectObj(messages[i], param);
    switch (m.role) {
      case 'system':
      case 'developer': {
        const parts = userParts(m.content, `${param}.content`, dropped);
        if (turns.length === 0) system.push(...parts);
        else pushParts(turns, 'user', parts);
        break;
      }
      case 'user':
        pushParts(turns, 'user', userParts(m.content, `${param}.content`, dropped));
        break;
      case 'assistant': {
        const parts = assistantText(m.content, `${param}.content`);
        if (Array.isArray(m.tool_calls)) {
          for (let k = 0; k < m.tool_calls.length; k++) parts.push(callPart(expectObj(m.tool_calls[k], `${param}.tool_calls[${k}]`), `${param}.tool_calls[${k}]`, namer, names));
        } else if (isObj(m.function_call)) {
          parts.push(callPart({ function: m.function_call }, `${param}.function_call`, namer, names));
        }
        pushParts(turns, 'model', parts);
        break;
      }
      case 'tool':
      case 'function': {
        const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : undefined;
        const name = (id !== undefined ? names.get(id) : undefined) ?? (typeof m.name === 'string' ? namer.upstreamName(m.name) : undefined);
        if (name === undefined) throw new TranslationError(`${param}: tool result for an unknown tool call '${id ?? ''}'`, `${param}.tool_call_id`);
        pushParts(turns, 'user', [{ functionResponse: { name, response: { content: toolText(m.content) } } }]);
        break;
      }
      default:
        throw new TranslationError(`${param}.role: unknown role '${String(m.role)}'`, `${param}.role`);
    }
  }
  // Gemini refuses a user turn without text next to its media (LiteLLM #5515): a blank text fixes it.
  for (const t of turns) {
    if (t.role === 'user' && !t.parts.some((p) => 'text' in p || 'functionResponse' in p)) t.parts.push({ text: ' ' });
  }
  if (turns.length === 0) turns.push({ role: 'user', parts: [{ text: ' ' }] });
  const out: Obj = { contents: turns };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const tools = toolsToGemini(body.tools, namer, dropped);
  if (tools) {
    out.tools = tools;
    const tc = toolConfig(body.tool_choice, namer);
    if (tc) out.toolConfig = tc;
  }
  const g = generationConfig(body, opts);
  if (Object.keys(g).length > 0) out.generationConfig = g;
  if (Array.isArray(body.safety_settings)) out.safetySettings = body.safety_settings;
  if (typeof body.cached_content === 'string') out.cachedContent = body.cached_content;
  const ctx: GeminiContext = { model: typeof body.model === 'string' ? body.model : model };
  if (namer.map !== undefined) ctx.toolNames = namer.map;
  if (isObj(body.stream_options) && body.stream_options.include_usage === true) ctx.includeUsage = true;
  return dropped.empty ? { body: out, ctx } : { body: out, ctx, dropped };
}
