// Anthropic Messages stream events (SSE) → OpenAI chat.completion.chunk SSE, incrementally.
//
//   message_start        → a role chunk: delta {role: 'assistant', content: ''}
//   text                 → delta.content
//   thinking             → delta.reasoning_content; signature_delta → delta.thinking_blocks
//                          [{type: 'thinking', thinking: '', signature}] (LiteLLM's shape);
//                          redacted_thinking → delta.thinking_blocks [{type: 'redacted_thinking', data}]
//   tool_use start       → tool_calls [{index, id, type: 'function', function: {name, arguments: ''}}]
//   input_json_delta     → tool_calls [{index, function: {arguments: partial_json}}]
//   message_delta        → a chunk with finish_reason (stop_reason mapped) and an empty delta
//   message_stop         → a usage chunk (choices: [], usage) if the client asked for
//                          stream_options.include_usage, then `data: [DONE]`
//   error                → `data: {"error": {…}}` and the stream ends
//   ping, server-tool blocks, citations → nothing
// `index` in tool_calls counts tool calls (0, 1, …), not Anthropic content blocks.
import type { ToOpenAIContext } from './context';
import { openAIErrorType } from './errors';
import { completionIdFrom, restoreToolName } from './names';
import { finishReasonFromStop } from './reasons';
import { isObj, type Obj } from './shape';
import { parseEventData } from './sse';
import { StreamTranslator } from './stream-translator';
import { emptyUsage, mergeAnthropicUsage, usageToOpenAI, type Usage } from './usage';

const q = JSON.stringify;

const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  timeout_error: 504,
  api_error: 500,
  overloaded_error: 529,
};

interface ToolBlock {
  index: number;
  sawArgs: boolean;
  input: unknown;
}

export class AnthropicToOpenAIStream extends StreamTranslator {
  private readonly ctx: ToOpenAIContext;
  private prefix = '';
  private started = false;
  private finishSent = false;
  private sawMessageDelta = false;
  private finishReason = 'stop';
  /** Content block index → its tool call (sparse; blocks are few). */
  private readonly toolBlocks: (ToolBlock | undefined)[] = [];
  private toolCount = 0;
  private readonly u: Usage = emptyUsage();
  private usageSeen = false;
  private outputChars = 0;
  /** A field initializer: see StreamTranslator on closures made in a translator's constructor. */
  private readonly onMessageFn = (e: Obj): void => this.onMessage(e);

  constructor(ctx: ToOpenAIContext) {
    super();
    this.ctx = ctx;
  }

  /** A clean upstream end before message_delta means a cut stream: an error chunk ends it. */
  protected upstreamEnded(): void {
    if (this.sawMessageDelta) this.stop();
    else this.error('the upstream stream ended before the response was complete', 'api_error', 500);
  }

  protected failWith(message: string, status: number): void {
    this.error(message, openAIErrorType(status), status);
  }

  /** True when the upstream reported usage (message_start / message_delta). */
  get usageReported(): boolean {
    return this.usageSeen;
  }

  /** Usage as far as seen; output ≈ characters produced / 4 until message_delta reports it. */
  get usage(): Usage {
    const u = { ...this.u };
    if (!this.sawMessageDelta) u.output_tokens = Math.max(u.output_tokens, Math.ceil(this.outputChars / 4));
    return u;
  }

  protected onEvent(event: string, data: string): void {
    if (this.finished || event === 'ping') return;
    parseEventData(data, this.onMessageFn);
  }

  private start(upstreamId: unknown): void {
    this.started = true;
    const id = this.ctx.id ?? completionIdFrom(upstreamId);
    const created = this.ctx.created ?? Math.floor(Date.now() / 1000);
    this.prefix = `data: {"id":${q(id)},"object":"chat.completion.chunk","created":${created},"model":${q(this.ctx.model)},`;
    this.chunk('{"role":"assistant","content":""}');
  }

  private chunk(delta: string): void {
    this.out += `${this.prefix}"choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  private onMessage(e: Obj): void {
    if (this.finished) return;
    const type = e.type;
    if (type === 'message_start') {
      const m = isObj(e.message) ? e.message : {};
      if (isObj(m.usage)) {
        mergeAnthropicUsage(m.usage, this.u);
        this.usageSeen = true;
      }
      if (!this.started) this.start(m.id);
      return;
    }
    if (type === 'error') {
      const err = isObj(e.error) ? e.error : {};
      const t = typeof err.type === 'string' ? err.type : 'api_error';
      this.error(typeof err.message === 'string' ? err.message : 'the upstream reported an error', t, STATUS_BY_TYPE[t] ?? 500);
      return;
    }
    if (type === 'ping') return;
    if (!this.started) this.start(undefined);
    switch (type) {
      case 'content_block_start':
        this.blockStart(typeof e.index === 'number' ? e.index : 0, isObj(e.content_block) ? e.content_block : {});
        break;
      case 'content_block_delta':
        this.blockDelta(typeof e.index === 'number' ? e.index : 0, isObj(e.delta) ? e.delta : {});
        break;
      case 'content_block_stop': {
        const i = typeof e.index === 'number' ? e.index : 0;
        const tb = this.toolBlocks[i];
        if (tb !== undefined && !tb.sawArgs && isObj(tb.input) && Object.keys(tb.input).length > 0) {
          const args = JSON.stringify(tb.input);
          this.outputChars += args.length;
          this.chunk(`{"tool_calls":[{"index":${tb.index},"function":{"arguments":${q(args)}}}]}`);
        }
        break;
      }
      case 'message_delta': {
        this.sawMessageDelta = true;
        if (isObj(e.usage)) {
          mergeAnthropicUsage(e.usage, this.u, true);
          this.usageSeen = true;
        }
        const d = isObj(e.delta) ? e.delta : {};
        if (d.stop_reason !== undefined && d.stop_reason !== null) this.finishReason = finishReasonFromStop(d.stop_reason);
        this.sendFinish();
        break;
      }
      case 'message_stop':
        this.stop();
        break;
      default:
        break;
    }
  }

  private blockStart(index: number, cb: Obj): void {
    switch (cb.type) {
      case 'text':
        if (typeof cb.text === 'string' && cb.text.length > 0) this.content(cb.text);
        break;
      case 'thinking':
        if (typeof cb.thinking === 'string' && cb.thinking.length > 0) this.reasoning(cb.thinking);
        if (typeof cb.signature === 'string' && cb.signature.length > 0) this.signature(cb.signature);
        break;
      case 'redacted_thinking':
        this.chunk(`{"thinking_blocks":[{"type":"redacted_thinking","data":${q(typeof cb.data === 'string' ? cb.data : '')}}]}`);
        break;
      case 'tool_use': {
        const tb: ToolBlock = { index: this.toolCount++, sawArgs: false, input: cb.input };
        this.toolBlocks[index] = tb;
        const name = restoreToolName(typeof cb.name === 'string' ? cb.name : '', this.ctx.toolNames);
        this.chunk(
          `{"tool_calls":[{"index":${tb.index},"id":${q(typeof cb.id === 'string' ? cb.id : '')},"type":"function",` +
            `"function":{"name":${q(name)},"arguments":""}}]}`,
        );
        break;
      }
      default:
        break; // server_tool_use, web_search_tool_result, …: nothing an OpenAI client can take
    }
  }

  private blockDelta(index: number, d: Obj): void {
    switch (d.type) {
      case 'text_delta':
        if (typeof d.text === 'string' && d.text.length > 0) this.content(d.text);
        break;
      case 'thinking_delta':
        if (typeof d.thinking === 'string' && d.thinking.length > 0) this.reasoning(d.thinking);
        break;
      case 'signature_delta':
        if (typeof d.signature === 'string' && d.signature.length > 0) this.signature(d.signature);
        break;
      case 'input_json_delta': {
        const tb = this.toolBlocks[index];
        const p = d.partial_json;
        if (tb === undefined || typeof p !== 'string' || p.length === 0) break;
        tb.sawArgs = true;
        this.outputChars += p.length;
        this.chunk(`{"tool_calls":[{"index":${tb.index},"function":{"arguments":${q(p)}}}]}`);
        break;
      }
      default:
        break;
    }
  }

  private content(s: string): void {
    this.outputChars += s.length;
    this.chunk(`{"content":${q(s)}}`);
  }

  private reasoning(s: string): void {
    this.outputChars += s.length;
    this.chunk(`{"reasoning_content":${q(s)}}`);
  }

  private signature(sig: string): void {
    this.chunk(`{"thinking_blocks":[{"type":"thinking","thinking":"","signature":${q(sig)}}]}`);
  }

  private sendFinish(): void {
    if (this.finishSent) return;
    this.finishSent = true;
    this.out += `${this.prefix}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":${q(this.finishReason)}}]}\n\n`;
  }

  private stop(): void {
    if (!this.started) this.start(undefined);
    this.sendFinish();
    if (this.ctx.includeUsage === true) this.out += `${this.prefix}"choices":[],"usage":${q(usageToOpenAI(this.usage))}}\n\n`;
    this.out += 'data: [DONE]\n\n';
    this.finished = true;
  }

  private error(message: string, type: string, status: number): void {
    this.out += `data: {"error":{"message":${q(message)},"type":${q(type)},"param":null,"code":${q(String(status))}}}\n\n`;
    this.finished = true;
  }
}
