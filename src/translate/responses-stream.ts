// Chat completion chunks (SSE) → Responses API stream events (SSE), incrementally.
//
//   first chunk      → response.created, response.in_progress (status in_progress, no output)
//   reasoning        → a reasoning item: output_item.added, reasoning_summary_part.added,
//                      reasoning_summary_text.delta…, …text.done, …part.done, output_item.done
//   content/refusal  → a message item: output_item.added, content_part.added,
//                      output_text.delta… (refusal.delta…), …done, content_part.done, output_item.done
//   tool_calls[i]    → a function_call item per call: output_item.added,
//                      function_call_arguments.delta… as they arrive, …done, output_item.done;
//                      a namespaced tool's flat chat name is split back into name + namespace;
//                      a freeform (custom) tool's call becomes a custom_tool_call item whose input is
//                      sent whole when the call is complete (its text sits inside the JSON arguments)
//   end              → response.completed (response.incomplete after finish_reason length or
//                      content_filter) with every output item and the usage
//   upstream error, fail(), cut stream → response.failed
// Every event carries sequence_number (0, 1, …); there is no [DONE] in this protocol.
import type { ToResponsesContext } from './responses-request';
import { messageItem, reasoningItem, responseEnvelope, responseIdFrom, responsesUsage, toolCallItem } from './responses-response';
import { isObj, type Obj } from './shape';
import { DONE, parseEventData } from './sse';
import { StreamTranslator } from './stream-translator';
import { emptyUsage, usageFromOpenAI, type Usage } from './usage';

const q = JSON.stringify;

const NONE = 0;
const REASONING = 1;
const MESSAGE = 2;
const TOOL = 3;

interface Call {
  key: number;
  callId: string;
  name: string;
  args: string;
  itemId: string;
  index: number;
  started: boolean;
  closed: boolean;
  custom: boolean;
}

export class ChatToResponsesStream extends StreamTranslator {
  private readonly ctx: ToResponsesContext;
  /** A field initializer: see StreamTranslator on closures made in a translator's constructor. */
  private readonly onChunkFn = (c: Obj): void => this.onChunk(c);
  private seq = 0;
  private started = false;
  private id = '';
  private base = '';
  private createdAt = 0;
  private readonly output: Obj[] = [];
  private open = NONE;
  private openIndex = -1;
  private openId = '';
  private openText = '';
  private openRefusal = false;
  private openCall: Call | undefined;
  private readonly calls: Call[] = [];
  /** The same calls by their key: a lookup per delta stays constant however many calls a stream holds. */
  private readonly callsByKey = new Map<number, Call>();
  private finishReason: unknown = undefined;
  private chatUsage: unknown = undefined;
  private outputChars = 0;

  constructor(ctx: ToResponsesContext) {
    super();
    this.ctx = ctx;
  }

  protected upstreamEnded(): void {
    if (this.finishReason !== undefined) this.complete();
    else this.failed('server_error', 'the upstream stream ended before the response was complete');
  }

  protected failWith(message: string, status: number): void {
    this.failed(status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request', message);
  }

  get usageReported(): boolean {
    return this.chatUsage !== undefined;
  }

  /** Usage in Anthropic's terms (what the gateway bills); an estimate until the upstream reports it. */
  get usage(): Usage {
    if (this.chatUsage !== undefined) return usageFromOpenAI(this.chatUsage);
    const u = emptyUsage();
    u.input_tokens = this.ctx.estimatedInputTokens ?? 0;
    u.output_tokens = Math.ceil(this.outputChars / 4);
    return u;
  }

  private ev(type: string, body: string): void {
    this.out += `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.seq++},${body}}\n\n`;
  }

  protected onEvent(_event: string, data: string): void {
    if (this.finished) return;
    if (data === '[DONE]') {
      this.complete();
      return;
    }
    parseEventData(data, this.onChunkFn);
  }

  private start(upstreamId: unknown): void {
    this.started = true;
    this.id = this.ctx.responseId ?? responseIdFrom(upstreamId);
    this.base = this.id.slice(5);
    this.createdAt = this.ctx.createdAt ?? Math.floor(Date.now() / 1000);
    const r = q(responseEnvelope(this.ctx, this.id, this.createdAt, 'in_progress', [], null));
    this.ev('response.created', `"response":${r}`);
    this.ev('response.in_progress', `"response":${r}`);
  }

  private onChunk(c: Obj): void {
    if (this.finished) return;
    if (c === DONE) {
      this.complete();
      return;
    }
    if (c.error !== undefined && c.error !== null) {
      const e = c.error;
      const message = isObj(e) && typeof e.message === 'string' ? e.message : typeof e === 'string' ? e : 'the upstream reported an error';
      const code = isObj(e) && typeof e.code === 'string' ? e.code : 'server_error';
      this.failed(code, message);
      return;
    }
    if (isObj(c.usage)) this.chatUsage = c.usage;
    if (!this.started) this.start(c.id);
    const choices = c.choices;
    if (!Array.isArray(choices) || choices.length === 0) return;
    const choice = choices.length === 1 ? choices[0] : choices.find((x) => isObj(x) && (x.index === 0 || x.index === undefined));
    if (!isObj(choice)) return;
    const d = choice.delta;
    if (isObj(d)) {
      const rc = d.reasoning_content;
      const reasoning = typeof rc === 'string' && rc.length > 0 ? rc : d.reasoning;
      if (typeof reasoning === 'string' && reasoning.length > 0) this.text(REASONING, reasoning, false);
      if (typeof d.content === 'string' && d.content.length > 0) this.text(MESSAGE, d.content, false);
      if (typeof d.refusal === 'string' && d.refusal.length > 0) this.text(MESSAGE, d.refusal, true);
      if (Array.isArray(d.tool_calls)) for (const tc of d.tool_calls) if (isObj(tc)) this.toolDelta(tc);
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finishReason = choice.finish_reason;
      this.closeItem();
    }
  }

  private text(kind: number, s: string, refusal: boolean): void {
    if (this.open !== kind || (kind === MESSAGE && this.openRefusal !== refusal)) {
      this.closeItem();
      this.open = kind;
      this.openIndex = this.output.length;
      this.output.push({}); // placeholder until the item is done
      this.openText = '';
      this.openRefusal = refusal;
      const i = this.openIndex;
      if (kind === REASONING) {
        this.openId = `rs_${this.base}_${i}`;
        this.ev('response.output_item.added', `"output_index":${i},"item":${q(reasoningItem(this.openId, ''))}`);
        this.ev('response.reasoning_summary_part.added', `"item_id":${q(this.openId)},"output_index":${i},"summary_index":0,"part":{"type":"summary_text","text":""}`);
      } else {
        this.openId = `msg_${this.base}_${i}`;
        this.ev('response.output_item.added', `"output_index":${i},"item":{"type":"message","id":${q(this.openId)},"status":"in_progress","role":"assistant","content":[]}`);
        const part = refusal ? '{"type":"refusal","refusal":""}' : '{"type":"output_text","text":"","annotations":[]}';
        this.ev('response.content_part.added', `"item_id":${q(this.openId)},"output_index":${i},"content_index":0,"part":${part}`);
      }
    }
    this.openText += s;
    this.outputChars += s.length;
    const where = `"item_id":${q(this.openId)},"output_index":${this.openIndex}`;
    if (kind === REASONING) this.ev('response.reasoning_summary_text.delta', `${where},"summary_index":0,"delta":${q(s)}`);
    else if (refusal) this.ev('response.refusal.delta', `${where},"content_index":0,"delta":${q(s)}`);
    else this.ev('response.output_text.delta', `${where},"content_index":0,"delta":${q(s)},"logprobs":[]`);
  }

  private toolDelta(tc: Obj): void {
    const fn = isObj(tc.function) ? tc.function : undefined;
    const id = typeof tc.id === 'string' && tc.id.length > 0 ? tc.id : undefined;
    const last = this.calls[this.calls.length - 1];
    let key: number;
    if (typeof tc.index === 'number') key = tc.index;
    else if (last !== undefined && (id === undefined || id === last.callId)) key = last.key;
    else key = last === undefined ? 0 : last.key + 1;
    let c = this.callsByKey.get(key);
    if (c === undefined) {
      c = { key, callId: id ?? '', name: '', args: '', itemId: '', index: -1, started: false, closed: false, custom: false };
      this.calls.push(c);
      this.callsByKey.set(key, c);
    } else if (c.callId === '' && id !== undefined) c.callId = id;
    if (c.closed) return;
    if (!c.started && fn !== undefined && typeof fn.name === 'string') c.name += fn.name;
    const a = fn?.arguments;
    const args = typeof a === 'string' ? a : isObj(a) ? q(a) : '';
    if (!c.started) {
      c.args += args;
      if (c.name.length > 0) this.startCall(c, c.args);
      return;
    }
    if (this.openCall !== c || args.length === 0) return;
    this.callArgs(c, args);
  }

  private startCall(c: Call, pending: string): void {
    this.closeItem();
    c.started = true;
    c.args = '';
    c.index = this.output.length;
    this.output.push({});
    c.itemId = `fc_${this.base}_${c.index}`;
    if (c.callId === '') c.callId = `call_${this.base}_${c.index}`;
    c.custom = this.ctx.customTools?.has(c.name) === true;
    this.open = TOOL;
    this.openIndex = c.index;
    this.openCall = c;
    // The item as it will end (name and namespace split back, custom or not), still empty.
    const item = toolCallItem(this.ctx, c.itemId, c.callId, c.name, '', 'in_progress');
    this.ev('response.output_item.added', `"output_index":${c.index},"item":${q(item)}`);
    if (pending.length > 0) this.callArgs(c, pending);
  }

  private callArgs(c: Call, args: string): void {
    c.args += args;
    this.outputChars += args.length;
    if (!c.custom) this.ev('response.function_call_arguments.delta', `"item_id":${q(c.itemId)},"output_index":${c.index},"delta":${q(args)}`);
  }

  private closeItem(): void {
    const i = this.openIndex;
    switch (this.open) {
      case REASONING: {
        const where = `"item_id":${q(this.openId)},"output_index":${i},"summary_index":0`;
        this.ev('response.reasoning_summary_text.done', `${where},"text":${q(this.openText)}`);
        this.ev('response.reasoning_summary_part.done', `${where},"part":{"type":"summary_text","text":${q(this.openText)}}`);
        this.output[i] = reasoningItem(this.openId, this.openText);
        break;
      }
      case MESSAGE: {
        const where = `"item_id":${q(this.openId)},"output_index":${i},"content_index":0`;
        if (this.openRefusal) this.ev('response.refusal.done', `${where},"refusal":${q(this.openText)}`);
        else this.ev('response.output_text.done', `${where},"text":${q(this.openText)},"logprobs":[]`);
        const item = messageItem(this.openId, this.openText, this.openRefusal, 'completed');
        this.ev('response.content_part.done', `${where},"part":${q((item.content as Obj[])[0])}`);
        this.output[i] = item;
        break;
      }
      case TOOL: {
        const c = this.openCall!;
        c.closed = true;
        this.openCall = undefined;
        const item = toolCallItem(this.ctx, c.itemId, c.callId, c.name, c.args, 'completed');
        const where = `"item_id":${q(c.itemId)},"output_index":${i}`;
        if (c.custom) {
          const input = item.input as string;
          if (input.length > 0) this.ev('response.custom_tool_call_input.delta', `${where},"delta":${q(input)}`);
          this.ev('response.custom_tool_call_input.done', `${where},"input":${q(input)}`);
        } else this.ev('response.function_call_arguments.done', `${where},"arguments":${q(c.args)}`);
        this.output[i] = item;
        break;
      }
      default:
        return;
    }
    this.ev('response.output_item.done', `"output_index":${i},"item":${q(this.output[i])}`);
    this.open = NONE;
  }

  private complete(): void {
    if (this.finished) return;
    if (!this.started) this.start(undefined);
    this.closeItem();
    for (const c of this.calls) {
      if (!c.started) {
        this.startCall(c, c.args);
        this.closeItem();
      }
    }
    const usage = this.chatUsage !== undefined ? responsesUsage(this.chatUsage) : null;
    const r = responseEnvelope(this.ctx, this.id, this.createdAt, 'completed', this.output, usage, this.finishReason);
    this.ev(r.status === 'incomplete' ? 'response.incomplete' : 'response.completed', `"response":${q(r)}`);
    this.finished = true;
  }

  private failed(code: string, message: string): void {
    if (!this.started) {
      this.id = this.ctx.responseId ?? responseIdFrom(undefined);
      this.createdAt = this.ctx.createdAt ?? Math.floor(Date.now() / 1000);
    }
    const r = responseEnvelope(this.ctx, this.id, this.createdAt, 'failed', this.output.filter((o) => o.type !== undefined), null);
    r.error = { code, message };
    this.ev('response.failed', `"response":${q(r)}`);
    this.finished = true;
  }
}
