// OpenAI chat completions → Ollama's native API, as LiteLLM translates it (its
// llms/ollama/chat/transformation.py for `ollama_chat/` → /api/chat, and
// llms/ollama/completion/transformation.py with the `ollama_pt` prompt for `ollama/` →
// /api/generate):
//  - max_tokens / max_completion_tokens → options.num_predict; temperature, top_p, seed, stop →
//    options; frequency_penalty → options.repeat_penalty (/api/chat) or frequency_penalty
//    (/api/generate);
//  - response_format json_object → format "json", json_schema → format: <the schema>;
//  - reasoning_effort → think (true on /api/chat; on /api/generate true for low/medium/high, the
//    effort itself for gpt-oss models);
//  - tools go as they are (Ollama takes OpenAI's tool shape); tool_choice and functions are left
//    out (LiteLLM: they make Ollama hang);
//  - messages: content parts → their text concatenated, image parts → `images` (base64 of data
//    URLs), tool_calls → Ollama's (arguments as objects), reasoning_content → thinking;
//  - any other top-level member that is not an OpenAI parameter is a provider option
//    (`num_ctx`, `top_k`, `mirostat`, …) and goes in `options`, except `format`, `keep_alive` and
//    `think`, which Ollama takes at the top;
//  - `stream` is always sent: Ollama streams when it is absent.
import { TranslationError } from './errors';

type Json = Record<string, unknown>;

export type OllamaApi = 'chat' | 'generate';

/** Top-level members of an OpenAI body that are not provider options. */
const OPENAI_KEYS = new Set([
  'model', 'messages', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'seed',
  'stop', 'frequency_penalty', 'presence_penalty', 'response_format', 'reasoning_effort', 'tools', 'tool_choice',
  'functions', 'function_call', 'n', 'logit_bias', 'logprobs', 'top_logprobs', 'user', 'parallel_tool_calls', 'metadata',
  'modalities', 'prediction', 'audio', 'service_tier', 'store', 'web_search_options', 'prompt_cache_key',
  'prompt_cache_retention', 'safety_identifier', 'verbosity', 'thinking',
]);
const TOP_LEVEL = new Set(['format', 'keep_alive', 'think']);

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (part && typeof part === 'object' && (part as Json).type === 'text' && typeof (part as Json).text === 'string') out += (part as Json).text as string;
  }
  return out;
}

/** Base64 of the data-URL images of a message (Ollama takes base64 only; remote URLs are not fetched). */
function images(content: unknown): string[] {
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const part of content) {
    if (!part || typeof part !== 'object' || (part as Json).type !== 'image_url') continue;
    const iu = (part as Json).image_url;
    const url = typeof iu === 'string' ? iu : iu && typeof iu === 'object' ? (iu as Json).url : undefined;
    if (typeof url === 'string' && url.startsWith('data:')) out.push(url.slice(url.indexOf(',') + 1));
  }
  return out;
}

function toolCalls(calls: unknown, at: string): Json[] | undefined {
  if (!Array.isArray(calls)) return undefined;
  return calls.map((c, i) => {
    const fn = (c as Json | null)?.function as Json | undefined;
    let args: unknown = {};
    const raw = fn?.arguments;
    if (typeof raw === 'string' && raw !== '') {
      try {
        args = JSON.parse(raw);
      } catch {
        throw new TranslationError(`${at}.tool_calls[${i}].function.arguments is not valid JSON`, `${at}.tool_calls[${i}].function.arguments`);
      }
    } else if (raw && typeof raw === 'object') args = raw;
    return { function: { name: typeof fn?.name === 'string' ? fn.name : '', arguments: args } };
  });
}

function chatMessages(messages: unknown[]): Json[] {
  return messages.map((raw, i) => {
    const m = (raw ?? {}) as Json;
    const out: Json = { role: String(m.role) };
    if (typeof m.reasoning_content === 'string') out.thinking = m.reasoning_content;
    out.content = text(m.content);
    const imgs = images(m.content);
    if (imgs.length) out.images = imgs;
    const calls = toolCalls(m.tool_calls, `messages[${i}]`);
    if (calls) out.tool_calls = calls;
    return out;
  });
}

/**
 * LiteLLM's `ollama_pt`: the conversation as one prompt. Consecutive user, tool and function
 * messages make one `### User:` turn, system messages `### System:`, assistant messages (with
 * their tool calls as JSON) `### Assistant:`. Models named `*instruct*` get the instruct template
 * instead (`### System:` / `### User:` / `### Response:`, ending with `### Response:`).
 */
export function ollamaPrompt(model: string, messages: Json[]): { prompt: string; images: string[] } {
  const imgs: string[] = [];
  if (model.includes('instruct')) {
    const pre: Record<string, string> = { system: '### System:\n', user: '### User:\n', assistant: '### Response:\n' };
    let prompt = '';
    for (const m of messages) {
      const role = String(m.role);
      prompt += role in pre ? `${pre[role]}${text(m.content)}\n` : text(m.content);
      imgs.push(...images(m.content));
    }
    return { prompt: `${prompt}### Response:`, images: imgs };
  }
  const userRoles = new Set(['user', 'tool', 'function']);
  let prompt = '';
  let i = 0;
  while (i < messages.length) {
    const start = i;
    let user = '';
    while (i < messages.length && userRoles.has(String(messages[i]!.role))) {
      user += text(messages[i]!.content);
      imgs.push(...images(messages[i]!.content));
      i++;
    }
    if (user) prompt += `### User:\n${user}\n\n`;
    let system = '';
    while (i < messages.length && (messages[i]!.role === 'system' || messages[i]!.role === 'developer')) {
      system += text(messages[i]!.content);
      i++;
    }
    if (system) prompt += `### System:\n${system}\n\n`;
    let assistant = '';
    while (i < messages.length && messages[i]!.role === 'assistant') {
      const m = messages[i]!;
      assistant += text(m.content);
      if (Array.isArray(m.tool_calls) && m.tool_calls.length) {
        const calls = toolCalls(m.tool_calls, `messages[${i}]`)!.map((c, k) => ({ id: ((m.tool_calls as Json[])[k] as Json | null)?.id, type: 'function', ...c }));
        assistant += `Tool Calls: ${JSON.stringify(calls, null, 2)}`;
      }
      i++;
    }
    if (assistant) prompt += `### Assistant:\n${assistant}\n\n`;
    if (i === start) throw new TranslationError(`messages[${i}] has a role Ollama's prompt cannot place: ${JSON.stringify(messages[i]!.role)}`, `messages[${i}].role`);
  }
  return { prompt, images: imgs };
}

/** The Ollama request for an OpenAI chat body; `stream` is the client's. */
export function chatToOllama(body: Json, model: string, api: OllamaApi): Json {
  const messages = body.messages;
  if (!Array.isArray(messages)) throw new TranslationError('messages must be an array', 'messages');
  const options: Json = {};
  const out: Json = { model };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) options.num_predict = maxTokens;
  for (const k of ['temperature', 'top_p', 'seed'] as const) if (body[k] !== undefined && body[k] !== null) options[k] = body[k];
  if (body.stop !== undefined && body.stop !== null) options.stop = typeof body.stop === 'string' ? [body.stop] : body.stop;
  if (body.frequency_penalty !== undefined && body.frequency_penalty !== null) options[api === 'chat' ? 'repeat_penalty' : 'frequency_penalty'] = body.frequency_penalty;
  const rf = body.response_format as Json | undefined;
  if (rf && typeof rf === 'object') {
    if (rf.type === 'json_object') out.format = 'json';
    else if (rf.type === 'json_schema') {
      const schema = (rf.json_schema as Json | undefined)?.schema;
      if (schema) out.format = schema;
    }
  }
  const effort = body.reasoning_effort;
  if (effort !== undefined && effort !== null) {
    out.think = api === 'chat' ? true : model.startsWith('gpt-oss') ? effort : ['low', 'medium', 'high'].includes(String(effort));
  }
  for (const [k, v] of Object.entries(body)) {
    if (OPENAI_KEYS.has(k)) continue;
    if (TOP_LEVEL.has(k)) out[k] = v;
    else options[k] = v;
  }
  if (api === 'chat') {
    out.messages = chatMessages(messages);
    if (Array.isArray(body.tools) && body.tools.length) out.tools = body.tools;
  } else {
    const p = ollamaPrompt(model, messages as Json[]);
    out.prompt = p.prompt;
    if (p.images.length) out.images = p.images;
  }
  out.options = options;
  out.stream = body.stream === true;
  return out;
}
