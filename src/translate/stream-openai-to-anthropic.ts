// OpenAI chat completion chunks (SSE) → Anthropic Messages stream events (SSE), incrementally.
//
// Output, as Anthropic's API streams it:
//   message_start (usage.input_tokens = ctx.estimatedInputTokens, or the upstream's if its first
//                  chunk already carried usage)
//   per block: content_block_start → content_block_delta… → content_block_stop
//     reasoning_content / reasoning → thinking block (thinking_delta; signature_delta when the
//       upstream gives a signature — a signature alone still makes a thinking block)
//     content → text block (text_delta) · tool_calls[i] → one tool_use block per call, arguments
//       passed on as input_json_delta fragments as they arrive (never an empty fragment; a call
//       that got no arguments at all gets one "{}" fragment, so its input is never missing)
//   message_delta (stop_reason, stop_sequence, usage with input, cache and output tokens)
//   message_stop
// message_delta waits for the upstream's usage chunk (it follows the finish_reason chunk when
// stream_options.include_usage is set) and goes out on `data: [DONE]` or on end().
// Parallel tool calls: every known upstream streams them one after the other (a call's first
// fragment, with id and name, means the previous call is complete), which is what Anthropic blocks
// need. A call without `index` is told apart by its id. A fragment for a call whose block was
// already closed (calls interleaved fragment by fragment) cannot be placed and is dropped.
//
// Usage: Claude Code reads input_tokens from message_start and output_tokens from message_delta;
// newer SDKs also take input and cache counts from message_delta when present. OpenAI sends usage
// only at the end, so message_start carries the request's estimate and message_delta the real
// input_tokens, cache_read_input_tokens, cache_creation_input_tokens and output_tokens.
import type { ToAnthropicContext } from './context';
import { type ChunkTemplate, tokenChars } from './chunk-template';
import { LEARN_TRIES, learnShape, shapeFoundAt, shapeOf } from './chunk-shapes';
import { anthropicErrorType } from './errors';
import { anthropicToolId, messageIdFrom, restoreToolName } from './names';
import { matchedStopSequence, stopReasonFromFinish } from './reasons';
import { isObj, type Obj } from './shape';
import { DONE, parseEventData } from './sse';
import { scanSteps } from '../scan-steps';
import { StreamTranslator } from './stream-translator';
import { emptyUsage, usageFromOpenAI, type Usage } from './usage';

const NONE = 0;
const TEXT = 1;
const THINKING = 2;
const TOOL = 3;

interface ToolCall {
  /** OpenAI's tool_calls[].index. */
  key: number;
  id: string;
  name: string;
  blockIndex: number;
  started: boolean;
  closed: boolean;
  /** Arguments that arrived before the name (a block cannot start without one). */
  pending: string;
  argChars: number;
}

const q = JSON.stringify;
const TEXT_TAIL = '}}\n\n';

export class OpenAIToAnthropicStream extends StreamTranslator {
  private readonly ctx: ToAnthropicContext;
  private started = false;
  private open = NONE;
  private openIndex = -1;
  /** The open text block's delta event up to its text (text deltas are most of a stream). */
  private textHead = '';
  private openTool: ToolCall | undefined;
  private signed = false;
  private nextIndex = 0;
  private readonly tools: ToolCall[] = [];
  /** The same calls by their key: a lookup per delta stays constant however many calls a stream holds. */
  private readonly toolsByKey = new Map<number, ToolCall>();
  private lastTool: ToolCall | undefined;
  private finishReason: unknown = undefined;
  private matchedStop: string | null = null;
  private refused = false;
  private usageSeen = false;
  private readonly u: Usage = emptyUsage();
  private outputChars = 0;
  /**
   * A field initializer: see StreamTranslator on closures made in a translator's constructor.
   * A parsed chunk may teach the worker its shape (chunk-shapes.ts) once the translator read it.
   */
  private readonly onChunkFn = (chunk: Obj): void => {
    this.onChunk(chunk);
    if (this.learnTries < LEARN_TRIES && learnShape(this.eventData, chunk) !== null) this.learnTries++;
  };
  /** The raw text of the event being parsed. */
  private eventData = '';
  /** Chunks whose shape this stream tried to learn. */
  private learnTries = 0;
  /** Where this stream's next search of the worker's shapes starts: after the one found last. */
  private nextShape = 0;
  /** The stream's text chunks, read from their bytes around the content (chunk-template.ts). */
  private template: ChunkTemplate | null = null;
  /** Chunks read through the stream's text template, and through the worker's shapes (for tests). */
  templated = 0;
  shaped = 0;

  constructor(ctx: ToAnthropicContext) {
    super();
    this.ctx = ctx;
  }

  /** A clean upstream end before the finish_reason means a cut stream: an `error` event ends it. */
  protected upstreamEnded(): void {
    if (this.finishReason !== undefined) this.close();
    else this.error('api_error', 'the upstream stream ended before the response was complete');
  }

  protected failWith(message: string, status: number): void {
    this.error(anthropicErrorType(status), message);
  }

  /** True when the upstream reported usage; otherwise `usage` is an estimate. */
  get usageReported(): boolean {
    return this.usageSeen;
  }

  /**
   * Usage as far as known: the upstream's when it reported it, else input from the request
   * estimate and output ≈ characters produced / 4 — what to bill for a stream that was cut.
   */
  get usage(): Usage {
    if (this.usageSeen) return { ...this.u };
    return {
      input_tokens: this.ctx.estimatedInputTokens ?? 0,
      output_tokens: Math.ceil(this.outputChars / 4),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    };
  }

  protected onEvent(_event: string, data: string): void {
    if (this.finished) return;
    if (data === '[DONE]') {
      this.close();
      return;
    }
    const token = this.template?.token(data);
    if (token !== undefined) {
      // What onChunk does with a text chunk of the template's shape, its content's JSON taken as
      // the template found it rather than written again.
      scanSteps.n += data.length;
      this.templated++;
      if (token.length > 2) this.textToken(token, tokenChars());
      return;
    }
    const shape = shapeOf(data, this.nextShape);
    const chunk = shape?.fill(data);
    if (shape && chunk) {
      scanSteps.n += data.length;
      this.shaped++;
      this.nextShape = shapeFoundAt() + 1;
      const template = shape.isText && this.template === null ? shape.template(data) : null;
      try {
        this.onChunk(chunk);
      } finally {
        shape.clear();
      }
      // The template path skips start(): it is taken once the stream has started.
      if (template !== null && this.started) this.template = template;
      return;
    }
    this.eventData = data;
    parseEventData(data, this.onChunkFn);
    this.eventData = '';
  }

  /**
   * One chat chunk already parsed (a translator that produces chat chunks as objects, like the
   * Gemini one, hands them over without a serialize-and-parse round). Returns the events to send.
   */
  pushChunk(chunk: Obj): string {
    if (!this.finished) this.onChunk(chunk);
    return this.take();
  }

  private onChunk(chunk: Obj): void {
    if (this.finished) return;
    if (chunk === DONE) {
      this.close();
      return;
    }
    if (chunk.error !== undefined && chunk.error !== null) {
      this.upstreamError(chunk.error);
      return;
    }
    if (isObj(chunk.usage)) {
      usageFromOpenAI(chunk.usage, this.u);
      this.usageSeen = true;
    }
    if (!this.started) this.start(chunk.id);
    const choices = chunk.choices;
    if (!Array.isArray(choices) || choices.length === 0) return;
    let choice = choices[0];
    if (choices.length > 1) choice = choices.find((c) => isObj(c) && (c.index === 0 || c.index === undefined));
    if (!isObj(choice)) return;
    const delta = choice.delta;
    if (isObj(delta)) this.onDelta(delta);
    const fr = choice.finish_reason;
    if (fr !== undefined && fr !== null) {
      this.finishReason = fr;
      if (fr === 'stop') this.matchedStop = matchedStopSequence(choice, this.ctx.stopSequences);
      this.closeBlock();
    }
  }

  private onDelta(d: Obj): void {
    // DeepSeek, vLLM and LiteLLM say reasoning_content; OpenRouter, Groq and Ollama say reasoning.
    const rc = d.reasoning_content;
    const reasoning = typeof rc === 'string' && rc.length > 0 ? rc : d.reasoning;
    const hasReasoning = typeof reasoning === 'string' && reasoning.length > 0;
    if (hasReasoning) this.thinking(reasoning);
    if (Array.isArray(d.thinking_blocks)) {
      // A LiteLLM upstream: the text repeats reasoning_content; signatures and redacted blocks do not.
      for (const b of d.thinking_blocks) {
        if (!isObj(b)) continue;
        if (b.type === 'redacted_thinking') this.redacted(typeof b.data === 'string' ? b.data : '');
        else {
          if (!hasReasoning && typeof b.thinking === 'string' && b.thinking.length > 0) this.thinking(b.thinking);
          if (typeof b.signature === 'string' && b.signature.length > 0) this.signature(b.signature);
        }
      }
    }
    const content = d.content;
    if (typeof content === 'string' && content.length > 0) this.text(content);
    if (typeof d.refusal === 'string' && d.refusal.length > 0) {
      this.refused = true;
      this.text(d.refusal);
    }
    const calls = d.tool_calls;
    if (Array.isArray(calls)) {
      for (let i = 0; i < calls.length; i++) {
        const c = calls[i];
        if (isObj(c)) this.toolDelta(c);
      }
    } else if (isObj(d.function_call)) this.toolDelta({ index: 0, function: d.function_call });
  }

  private start(upstreamId: unknown): void {
    this.started = true;
    const id = this.ctx.messageId ?? messageIdFrom(upstreamId);
    const input = this.usageSeen ? this.u.input_tokens : (this.ctx.estimatedInputTokens ?? 0);
    const cacheRead = this.usageSeen ? this.u.cache_read_input_tokens : 0;
    const cacheWrite = this.usageSeen ? this.u.cache_creation_input_tokens : 0;
    this.out +=
      `event: message_start\ndata: {"type":"message_start","message":{"id":${q(id)},"type":"message","role":"assistant",` +
      `"model":${q(this.ctx.model)},"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":${input},` +
      `"cache_creation_input_tokens":${cacheWrite},"cache_read_input_tokens":${cacheRead},"output_tokens":0}}}\n\n`;
  }

  private startBlock(kind: number, contentBlock: string): void {
    this.closeBlock();
    this.open = kind;
    this.openIndex = this.nextIndex++;
    this.out += `event: content_block_start\ndata: {"type":"content_block_start","index":${this.openIndex},"content_block":${contentBlock}}\n\n`;
  }

  private delta(body: string): void {
    this.out += deltaHead(this.openIndex) + body + '}\n\n';
  }

  private closeBlock(): void {
    if (this.open === NONE) return;
    if (this.open === TOOL) {
      const t = this.openTool!;
      if (t.argChars === 0) this.delta('{"type":"input_json_delta","partial_json":"{}"}');
      t.closed = true;
      this.openTool = undefined;
    }
    this.out += `event: content_block_stop\ndata: {"type":"content_block_stop","index":${this.openIndex}}\n\n`;
    this.open = NONE;
  }

  private text(s: string): void {
    this.textToken(q(s), s.length);
  }

  /** A text delta whose content is `token` (its JSON) and `chars` long. */
  private textToken(token: string, chars: number): void {
    if (this.open !== TEXT) {
      this.startBlock(TEXT, '{"type":"text","text":""}');
      this.textHead = deltaHead(this.openIndex) + '{"type":"text_delta","text":';
    }
    this.outputChars += chars;
    // As delta() writes it, with the part before the text made once per block.
    this.out += this.textHead + token + TEXT_TAIL;
  }

  private thinking(s: string): void {
    if (this.open !== THINKING || this.signed) {
      this.startBlock(THINKING, '{"type":"thinking","thinking":"","signature":""}');
      this.signed = false;
    }
    this.outputChars += s.length;
    this.delta(`{"type":"thinking_delta","thinking":${q(s)}}`);
  }

  private signature(sig: string): void {
    if (this.open !== THINKING || this.signed) this.startBlock(THINKING, '{"type":"thinking","thinking":"","signature":""}');
    this.signed = true;
    this.delta(`{"type":"signature_delta","signature":${q(sig)}}`);
  }

  private redacted(data: string): void {
    this.startBlock(NONE, `{"type":"redacted_thinking","data":${q(data)}}`);
    this.out += `event: content_block_stop\ndata: {"type":"content_block_stop","index":${this.openIndex}}\n\n`;
  }

  private toolDelta(c: Obj): void {
    const fn = isObj(c.function) ? c.function : undefined;
    const id = typeof c.id === 'string' && c.id.length > 0 ? c.id : undefined;
    let key: number;
    if (typeof c.index === 'number') key = c.index;
    else if (this.lastTool !== undefined && (id === undefined || id === this.lastTool.id)) key = this.lastTool.key;
    else key = this.tools.length === 0 ? 0 : this.tools[this.tools.length - 1]!.key + 1; // no index: a new id is a new call
    let t = this.lastTool !== undefined && this.lastTool.key === key ? this.lastTool : undefined;
    t ??= this.toolsByKey.get(key);
    if (t === undefined) {
      t = { key, id: id ?? '', name: '', blockIndex: -1, started: false, closed: false, pending: '', argChars: 0 };
      this.tools.push(t);
      this.toolsByKey.set(key, t);
    } else if (t.id === '' && id !== undefined) t.id = id;
    this.lastTool = t;
    if (t.closed) return; // a fragment for a call whose block is already closed cannot be placed
    if (fn !== undefined && typeof fn.name === 'string' && fn.name.length > 0 && !t.started) t.name += fn.name;
    const rawArgs = fn?.arguments;
    const args = typeof rawArgs === 'string' ? rawArgs : isObj(rawArgs) ? JSON.stringify(rawArgs) : '';
    if (!t.started) {
      if (t.name.length === 0) {
        t.pending += args;
        return;
      }
      this.startTool(t);
    } else if (this.openTool !== t) return;
    if (args.length > 0) this.toolArgs(t, args);
  }

  private startTool(t: ToolCall): void {
    const id = anthropicToolId(t.id);
    const name = restoreToolName(t.name, this.ctx.toolNames);
    this.startBlock(TOOL, `{"type":"tool_use","id":${q(id)},"name":${q(name)},"input":{}}`);
    t.started = true;
    t.blockIndex = this.openIndex;
    this.openTool = t;
    if (t.pending.length > 0) {
      const p = t.pending;
      t.pending = '';
      this.toolArgs(t, p);
    }
  }

  private toolArgs(t: ToolCall, args: string): void {
    t.argChars += args.length;
    this.outputChars += args.length;
    this.delta(`{"type":"input_json_delta","partial_json":${q(args)}}`);
  }

  /** message_delta and message_stop, once. */
  private close(): void {
    if (this.finished) return;
    if (!this.started) this.start(undefined);
    this.closeBlock();
    for (let i = 0; i < this.tools.length; i++) {
      const t = this.tools[i]!;
      if (!t.started) {
        // Arguments but never a name: still a tool call the client must see.
        this.startTool(t);
        this.closeBlock();
      }
    }
    let stopReason = this.matchedStop !== null && this.tools.length === 0 ? 'stop_sequence' : stopReasonFromFinish(this.finishReason, this.tools.length > 0);
    if (this.refused && stopReason === 'end_turn') stopReason = 'refusal';
    const u = this.usage;
    this.out +=
      `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":${q(stopReason)},"stop_sequence":` +
      `${stopReason === 'stop_sequence' ? q(this.matchedStop) : 'null'}},"usage":{"input_tokens":${u.input_tokens},` +
      `"cache_creation_input_tokens":${u.cache_creation_input_tokens},"cache_read_input_tokens":${u.cache_read_input_tokens},` +
      `"output_tokens":${u.output_tokens}}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n`;
    this.finished = true;
  }

  private upstreamError(e: unknown): void {
    let message = 'the upstream reported an error';
    let type = 'api_error';
    if (typeof e === 'string') message = e;
    else if (isObj(e)) {
      if (typeof e.message === 'string') message = e.message;
      const hint = `${String(e.type ?? '')} ${String(e.code ?? '')}`;
      if (hint.includes('rate_limit') || hint.includes('429')) type = 'rate_limit_error';
      else if (hint.includes('overloaded') || hint.includes('503') || hint.includes('529')) type = 'overloaded_error';
      else if (hint.includes('invalid_request') || hint.includes('400')) type = 'invalid_request_error';
    }
    this.error(type, message);
  }

  private error(type: string, message: string): void {
    this.out += `event: error\ndata: {"type":"error","error":{"type":${q(type)},"message":${q(message)}}}\n\n`;
    this.finished = true;
  }
}

/** A content_block_delta event up to its delta object. */
function deltaHead(index: number): string {
  return `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},"delta":`;
}
