// Ollama's native answers → OpenAI chat completions, as LiteLLM maps them: /api/chat's `message`
// (content, thinking → reasoning_content, tool_calls with their arguments as JSON text and a fresh
// id) or /api/generate's `response` text; `done_reason` → finish_reason (tool_calls whenever tools
// were called); usage from `prompt_eval_count` and `eval_count`. Streams are NDJSON, one object a
// line: each becomes a chat.completion.chunk, the last (`done: true`) the finish, the usage chunk
// when the request asked for it, and `[DONE]`.
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { MAX_EVENT_CHARS } from './sse';
import { scanSteps } from '../scan-steps';
import type { OllamaApi } from './ollama-request';

type Json = Record<string, unknown>;

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function openaiToolCalls(calls: unknown, from: number): Json[] {
  if (!Array.isArray(calls)) return [];
  return calls.map((c, i) => {
    const fn = ((c as Json | null)?.function ?? {}) as Json;
    const args = fn.arguments;
    return {
      index: from + i,
      id: typeof (c as Json).id === 'string' ? (c as Json).id : `call_${randomUUID()}`,
      type: 'function',
      function: { name: typeof fn.name === 'string' ? fn.name : '', arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
    };
  });
}

function finishReason(o: Json, toolCalls: boolean): string {
  if (toolCalls) return 'tool_calls';
  return o.done_reason === 'length' ? 'length' : 'stop';
}

function usage(o: Json): Json {
  const prompt = num(o.prompt_eval_count);
  const completion = num(o.eval_count);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** A whole /api/chat or /api/generate answer as a chat.completion. Throws on a body that is not an Ollama answer. */
export function ollamaResponseToOpenAI(o: Json, api: OllamaApi): Json {
  if (typeof o.error === 'string') throw new Error(`Ollama answered an error: ${o.error}`);
  const message: Json = { role: 'assistant' };
  let calls: Json[] = [];
  if (api === 'chat') {
    const m = o.message as Json | undefined;
    if (!m || typeof m !== 'object') throw new Error('the answer has no message');
    message.content = typeof m.content === 'string' ? m.content : null;
    if (typeof m.thinking === 'string' && m.thinking) message.reasoning_content = m.thinking;
    calls = openaiToolCalls(m.tool_calls, 0).map(({ index: _index, ...c }) => c);
  } else {
    if (typeof o.response !== 'string') throw new Error('the answer has no response text');
    message.content = o.response;
    if (typeof o.thinking === 'string' && o.thinking) message.reasoning_content = o.thinking;
  }
  if (calls.length) message.tool_calls = calls;
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: String(o.model ?? ''),
    choices: [{ index: 0, message, finish_reason: finishReason(o, calls.length > 0) }],
    usage: usage(o),
  };
}

/** An Ollama NDJSON stream in, OpenAI chat completion chunks (SSE) out, in any chunking. */
export class OllamaToOpenAIStream {
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';
  private readonly id = `chatcmpl-${randomUUID()}`;
  private readonly created = Math.floor(Date.now() / 1000);
  private model = '';
  private started = false;
  private toolCalls = 0;
  private finished = false;

  constructor(
    private readonly api: OllamaApi,
    /** The request asked for stream_options.include_usage. */
    private readonly includeUsage: boolean,
  ) {}

  push(chunk: Buffer): string {
    if (this.finished) return '';
    const text = this.decoder.write(chunk);
    scanSteps.n += chunk.length + text.length;
    let out = '';
    let from = 0;
    let nl = text.indexOf('\n');
    if (nl < 0) {
      this.tail += text;
      if (this.tail.length > MAX_EVENT_CHARS) return this.fail(`an Ollama stream line passed ${MAX_EVENT_CHARS} characters`);
      return '';
    }
    while (nl >= 0 && !this.finished) {
      const line = from === 0 ? this.tail + text.slice(0, nl) : text.slice(from, nl);
      if (from === 0) this.tail = '';
      out += this.line(line);
      from = nl + 1;
      nl = text.indexOf('\n', from);
    }
    if (!this.finished) this.tail = text.slice(from);
    return out;
  }

  /** The upstream ended: a last line without its newline. */
  end(): string {
    if (this.finished) return '';
    const rest = this.tail + this.decoder.end();
    this.tail = '';
    return rest.trim() ? this.line(rest) : '';
  }

  private chunk(delta: Json, finish: string | null, extra?: Json): string {
    return `data: ${JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  }

  private fail(message: string): string {
    this.finished = true;
    return `data: ${JSON.stringify({ error: { message, type: 'api_error', param: null, code: null } })}\n\n`;
  }

  private line(line: string): string {
    // The trim and the parse, each over the line once.
    scanSteps.n += 2 * line.length;
    if (!line.trim()) return '';
    let o: Json;
    try {
      o = JSON.parse(line) as Json;
    } catch {
      return this.fail('Ollama sent a stream line that is not JSON');
    }
    if (!o || typeof o !== 'object') return '';
    if (typeof o.error === 'string') return this.fail(`Ollama: ${o.error}`);
    if (typeof o.model === 'string') this.model = o.model;
    const delta: Json = {};
    if (!this.started) {
      this.started = true;
      delta.role = 'assistant';
    }
    const src = this.api === 'chat' ? ((o.message ?? {}) as Json) : o;
    const body = this.api === 'chat' ? src.content : src.response;
    if (typeof src.thinking === 'string' && src.thinking) delta.reasoning_content = src.thinking;
    if (typeof body === 'string' && body) delta.content = body;
    if (this.api === 'chat') {
      const calls = openaiToolCalls(src.tool_calls, this.toolCalls);
      if (calls.length) {
        delta.tool_calls = calls;
        this.toolCalls += calls.length;
      }
    }
    let out = Object.keys(delta).length ? this.chunk(delta, null) : '';
    if (o.done === true) {
      this.finished = true;
      out += this.chunk({}, finishReason(o, this.toolCalls > 0));
      if (this.includeUsage) out += `data: ${JSON.stringify({ id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: usage(o) })}\n\n`;
      out += 'data: [DONE]\n\n';
    }
    return out;
  }
}
