// Bedrock's Converse API for the models that are not Claude, behind the Anthropic dialect: the
// gateway speaks Anthropic messages to a Converse deployment (an OpenAI client gets there through
// the usual OpenAI ⇄ Anthropic translation), and this file maps the two shapes.
//
// Request (Anthropic → Converse): system blocks → `system: [{text}]`, content blocks → Converse
// blocks (text, image, document, toolUse, toolResult, reasoningContent), `cache_control` → a
// `cachePoint` after the block, max_tokens / temperature / top_p / stop_sequences →
// `inferenceConfig`, tools / tool_choice → `toolConfig`. The body must be parsed: the shapes
// differ everywhere. What Converse has no place for (top_k, thinking, metadata, unknown blocks) is
// left out and named in x-weir-dropped.
//
// Answer (Converse → Anthropic): a whole answer becomes an Anthropic message; a stream's
// event-stream frames (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata) become
// Anthropic SSE events as they arrive. Converse reports usage after messageStop (in `metadata`),
// so the message_delta that carries stop_reason and usage is written when it arrives.
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../gateway/errors';
import type { Dropped } from '../../translate/dropped';
import type { WireDecoder } from '../wire';
import { BedrockFrames, frameError } from './invoke';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'gif', 'webp']);
const CACHE_POINT = { cachePoint: { type: 'default' } };

function bad(message: string, param: string): GatewayError {
  return new GatewayError(400, message, 'invalid_request_error', param);
}

function imageBlock(b: Obj, where: string, dropped?: Dropped): Obj | null {
  const src = b.source;
  if (!isObj(src) || src.type !== 'base64' || typeof src.data !== 'string') {
    dropped?.item(where, `image source ${isObj(src) ? String(src.type) : '?'}`);
    return null;
  }
  const format = String(src.media_type ?? '').replace(/^image\//, '');
  if (!IMAGE_FORMATS.has(format)) throw bad(`${where}: Bedrock takes png, jpeg, gif and webp images, not ${String(src.media_type)}`, where);
  return { image: { format, source: { bytes: src.data } } };
}

function documentBlock(b: Obj, where: string, dropped?: Dropped): Obj | null {
  const src = b.source;
  const name = typeof b.title === 'string' && b.title ? b.title : 'document';
  if (isObj(src) && src.type === 'base64' && src.media_type === 'application/pdf' && typeof src.data === 'string') return { document: { format: 'pdf', name, source: { bytes: src.data } } };
  if (isObj(src) && src.type === 'text' && typeof src.data === 'string') return { document: { format: 'txt', name, source: { bytes: Buffer.from(src.data).toString('base64') } } };
  dropped?.item(where, 'document');
  return null;
}

function toolResultContent(content: unknown, where: string, dropped?: Dropped): Obj[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) return [];
  const out: Obj[] = [];
  content.forEach((c: unknown, i) => {
    if (!isObj(c)) return;
    if (c.type === 'text') out.push({ text: String(c.text ?? '') });
    else if (c.type === 'image') {
      const img = imageBlock(c, `${where}[${i}]`, dropped);
      if (img) out.push(img);
    } else if (c.type === 'document') {
      const doc = documentBlock(c, `${where}[${i}]`, dropped);
      if (doc) out.push(doc);
    } else dropped?.item(`${where}[${i}]`, c.type);
  });
  return out;
}

/** One Anthropic content block as Converse blocks (a cachePoint follows a cached block). */
function contentBlocks(b: unknown, where: string, dropped?: Dropped): Obj[] {
  if (!isObj(b)) throw bad(`${where}: a content block must be an object`, where);
  let block: Obj | null;
  switch (b.type) {
    case 'text':
      block = { text: String(b.text ?? '') };
      break;
    case 'image':
      block = imageBlock(b, where, dropped);
      break;
    case 'document':
      block = documentBlock(b, where, dropped);
      break;
    case 'tool_use':
      block = { toolUse: { toolUseId: String(b.id), name: String(b.name), input: b.input ?? {} } };
      break;
    case 'tool_result':
      block = { toolResult: { toolUseId: String(b.tool_use_id), content: toolResultContent(b.content, `${where}.content`, dropped), status: b.is_error === true ? 'error' : 'success' } };
      break;
    case 'thinking':
      block = { reasoningContent: { reasoningText: { text: String(b.thinking ?? ''), ...(typeof b.signature === 'string' && b.signature ? { signature: b.signature } : {}) } } };
      break;
    case 'redacted_thinking':
      block = { reasoningContent: { redactedContent: String(b.data ?? '') } };
      break;
    default:
      dropped?.item(where, b.type);
      return [];
  }
  if (!block) return [];
  return isObj(b.cache_control) ? [block, CACHE_POINT] : [block];
}

function systemBlocks(system: unknown, dropped?: Dropped): Obj[] | undefined {
  if (system === undefined || system === null) return undefined;
  if (typeof system === 'string') return system ? [{ text: system }] : undefined;
  if (!Array.isArray(system)) throw bad('system: a string or a list of text blocks', 'system');
  const out: Obj[] = [];
  system.forEach((b: unknown, i) => {
    if (isObj(b) && b.type === 'text') {
      out.push({ text: String(b.text ?? '') });
      if (isObj(b.cache_control)) out.push(CACHE_POINT);
    } else dropped?.item(`system[${i}]`, isObj(b) ? b.type : typeof b);
  });
  return out.length ? out : undefined;
}

function toolConfig(tools: unknown, choice: unknown, dropped?: Dropped): Obj | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  const specs: Obj[] = [];
  tools.forEach((t: unknown, i) => {
    if (!isObj(t)) return;
    // Server tools (web_search_…, bash_…) have a type and no input_schema: Converse cannot run them.
    if (t.input_schema === undefined || (typeof t.type === 'string' && t.type !== 'custom')) {
      dropped?.tool(typeof t.type === 'string' ? t.type : String(t.name ?? `tools[${i}]`));
      return;
    }
    specs.push({ toolSpec: { name: String(t.name), ...(typeof t.description === 'string' && t.description ? { description: t.description } : {}), inputSchema: { json: t.input_schema } } });
    if (isObj(t.cache_control)) specs.push(CACHE_POINT);
  });
  if (specs.length === 0) return undefined;
  const out: Obj = { tools: specs };
  if (isObj(choice)) {
    if (choice.type === 'any') out.toolChoice = { any: {} };
    else if (choice.type === 'tool' && typeof choice.name === 'string') out.toolChoice = { tool: { name: choice.name } };
    else if (choice.type === 'auto') out.toolChoice = { auto: {} };
    // 'none': Converse has no such choice; the tools stay declared (earlier toolUse blocks need them).
  }
  return out;
}

/** Top-level fields of an Anthropic body that Converse takes in another place or needs no notice for. */
const MAPPED = new Set(['model', 'stream', 'messages', 'system', 'max_tokens', 'temperature', 'top_p', 'stop_sequences', 'tools', 'tool_choice', 'anthropic_version']);

/** The Converse request for an Anthropic Messages body. */
export function converseRequest(body: Buffer, dropped?: Dropped): Buffer {
  let req: unknown;
  try {
    req = JSON.parse(body.toString('utf8'));
  } catch {
    throw bad('Request body is not valid JSON.', 'body');
  }
  if (!isObj(req) || !Array.isArray(req.messages)) throw bad('messages: a list of messages is required', 'messages');
  const messages = req.messages.map((m: unknown, i) => {
    if (!isObj(m) || (m.role !== 'user' && m.role !== 'assistant')) throw bad(`messages[${i}]: role must be user or assistant`, `messages[${i}].role`);
    const content = typeof m.content === 'string' ? [{ text: m.content }] : Array.isArray(m.content) ? m.content.flatMap((b: unknown, j) => contentBlocks(b, `messages[${i}].content[${j}]`, dropped)) : [];
    return { role: m.role, content };
  });
  const out: Obj = { messages };
  const system = systemBlocks(req.system, dropped);
  if (system) out.system = system;
  const inference: Obj = {};
  if (typeof req.max_tokens === 'number') inference.maxTokens = req.max_tokens;
  if (typeof req.temperature === 'number') inference.temperature = req.temperature;
  if (typeof req.top_p === 'number') inference.topP = req.top_p;
  if (Array.isArray(req.stop_sequences) && req.stop_sequences.length) inference.stopSequences = req.stop_sequences;
  if (Object.keys(inference).length) out.inferenceConfig = inference;
  const tc = toolConfig(req.tools, req.tool_choice, dropped);
  if (tc) out.toolConfig = tc;
  for (const k of Object.keys(req)) if (!MAPPED.has(k)) dropped?.item(k, 'field');
  return Buffer.from(JSON.stringify(out));
}

const STOP_REASONS: Record<string, string> = {
  end_turn: 'end_turn',
  tool_use: 'tool_use',
  max_tokens: 'max_tokens',
  stop_sequence: 'stop_sequence',
  guardrail_intervened: 'refusal',
  content_filtered: 'refusal',
  model_context_window_exceeded: 'model_context_window_exceeded',
};

const stopReason = (r: unknown): string => STOP_REASONS[String(r)] ?? 'end_turn';

function anthropicUsage(u: unknown): Obj {
  const o = isObj(u) ? u : {};
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  return { input_tokens: n(o.inputTokens), cache_creation_input_tokens: n(o.cacheWriteInputTokens), cache_read_input_tokens: n(o.cacheReadInputTokens), output_tokens: n(o.outputTokens) };
}

function anthropicBlock(b: unknown): Obj | null {
  if (!isObj(b)) return null;
  if (typeof b.text === 'string') return { type: 'text', text: b.text };
  if (isObj(b.toolUse)) return { type: 'tool_use', id: String(b.toolUse.toolUseId), name: String(b.toolUse.name), input: b.toolUse.input ?? {} };
  if (isObj(b.reasoningContent)) {
    const r = b.reasoningContent;
    if (isObj(r.reasoningText)) return { type: 'thinking', thinking: String(r.reasoningText.text ?? ''), signature: String(r.reasoningText.signature ?? '') };
    if (typeof r.redactedContent === 'string') return { type: 'redacted_thinking', data: r.redactedContent };
  }
  return null;
}

const messageId = (): string => `msg_bdrk_${randomUUID().replace(/-/g, '')}`;

/** A whole Converse answer as an Anthropic message. */
export function anthropicMessage(raw: Buffer, model: string): Buffer {
  const r = JSON.parse(raw.toString('utf8')) as Obj;
  const msg = isObj(r.output) && isObj(r.output.message) ? r.output.message : {};
  const content = Array.isArray(msg.content) ? msg.content.map(anthropicBlock).filter((b): b is Obj => b !== null) : [];
  return Buffer.from(
    JSON.stringify({ id: messageId(), type: 'message', role: 'assistant', model, content, stop_reason: stopReason(r.stopReason), stop_sequence: null, usage: anthropicUsage(r.usage) }),
  );
}

const sse = (type: string, data: Obj): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** ConverseStream's event stream → Anthropic SSE, frame by frame. */
export class ConverseStreamDecoder implements WireDecoder {
  private readonly frames = new BedrockFrames();
  private started = false;
  /** Converse block index → the Anthropic block type open there. */
  private readonly open = new Map<number, string>();
  private stop: string | null = null;
  private done = false;

  constructor(private readonly model: string) {}

  push(chunk: Buffer): Buffer {
    if (this.done) return EMPTY;
    const messages = this.frames.push(chunk);
    if (typeof messages === 'string') return Buffer.from(messages);
    let out = '';
    for (const m of messages) {
      if (this.done) break;
      if (m.headers[':message-type'] !== 'event') {
        const err = frameError(m);
        if (err) {
          out += err;
          this.done = true;
        }
        continue;
      }
      let ev: Obj;
      try {
        ev = JSON.parse(m.payload.toString('utf8')) as Obj;
      } catch {
        continue;
      }
      out += this.event(m.headers[':event-type'] ?? '', ev);
    }
    return out ? Buffer.from(out) : EMPTY;
  }

  end(): Buffer {
    if (this.frames.broken || this.done) return EMPTY;
    const tail = this.frames.end();
    if (tail) return Buffer.from(tail);
    // A stream that ended without its metadata: the stop is still told (usage as the scanner estimates).
    if (this.stop !== null) return Buffer.from(this.finish({}));
    return EMPTY;
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    return sse('message_start', {
      message: { id: messageId(), type: 'message', role: 'assistant', model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } },
    });
  }

  private openBlock(index: number, type: string, block: Obj): string {
    if (this.open.has(index)) return '';
    this.open.set(index, type);
    return sse('content_block_start', { index, content_block: { type, ...block } });
  }

  private closeAll(): string {
    let out = '';
    for (const index of this.open.keys()) out += sse('content_block_stop', { index });
    this.open.clear();
    return out;
  }

  private finish(usage: unknown): string {
    this.done = true;
    return this.closeAll() + sse('message_delta', { delta: { stop_reason: this.stop ?? 'end_turn', stop_sequence: null }, usage: anthropicUsage(usage) }) + sse('message_stop', {});
  }

  private event(type: string, e: Obj): string {
    const index = typeof e.contentBlockIndex === 'number' ? e.contentBlockIndex : 0;
    switch (type) {
      case 'messageStart':
        return this.start();
      case 'contentBlockStart': {
        const s = isObj(e.start) ? e.start : {};
        if (isObj(s.toolUse)) return this.start() + this.openBlock(index, 'tool_use', { id: String(s.toolUse.toolUseId), name: String(s.toolUse.name), input: {} });
        return this.start();
      }
      case 'contentBlockDelta': {
        const d = isObj(e.delta) ? e.delta : {};
        let out = this.start();
        if (typeof d.text === 'string') {
          out += this.openBlock(index, 'text', { text: '' });
          return out + sse('content_block_delta', { index, delta: { type: 'text_delta', text: d.text } });
        }
        if (isObj(d.toolUse)) {
          out += this.openBlock(index, 'tool_use', { id: `toolu_bdrk_${index}`, name: '', input: {} });
          return out + sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: String(d.toolUse.input ?? '') } });
        }
        if (isObj(d.reasoningContent)) {
          const r = d.reasoningContent;
          if (typeof r.redactedContent === 'string') return out + this.openBlock(index, 'redacted_thinking', { data: r.redactedContent });
          out += this.openBlock(index, 'thinking', { thinking: '', signature: '' });
          if (typeof r.text === 'string') out += sse('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: r.text } });
          if (typeof r.signature === 'string') out += sse('content_block_delta', { index, delta: { type: 'signature_delta', signature: r.signature } });
          return out;
        }
        return out;
      }
      case 'contentBlockStop': {
        if (!this.open.has(index)) return '';
        this.open.delete(index);
        return sse('content_block_stop', { index });
      }
      case 'messageStop':
        this.stop = stopReason(e.stopReason);
        return this.start() + this.closeAll();
      case 'metadata':
        return this.start() + this.finish(e.usage);
      default:
        return '';
    }
  }
}

const EMPTY = Buffer.alloc(0);
