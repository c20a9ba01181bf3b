// Claude on Bedrock through InvokeModel: the Anthropic Messages body with Bedrock's differences.
//
// Request: `model` and `stream` leave the body (the model is in the path, the path says stream or
// not), `anthropic_version` comes in (the client's, else bedrock-2023-05-31), and the betas the
// client sent (anthropic-beta header and body) go in the body as `anthropic_beta`, under Bedrock's
// names. Bedrock refuses top-level fields it does not know and betas it does not know, so those are
// left out and named in x-weir-dropped. All of it is a splice of the top-level members (whose spans
// the gateway's body scan recorded): the values are copied as they are, and only the two small ones
// Bedrock restricts (`anthropic_beta`, `context_management`) are parsed.
//
// Answer: a whole answer is the Anthropic message as it is. A stream is AWS event-stream frames,
// each `chunk` event carrying one Anthropic event as base64 JSON; they are decoded into the SSE
// bytes Anthropic would have sent (`event: <type>\ndata: <json>\n\n`), and an exception frame
// (throttling, a model error mid-stream) becomes an Anthropic `error` event.
import { topLevelMembers, type BodyScan } from '../../gateway/body-scan';
import type { Dropped } from '../../translate/dropped';
import type { WireDecoder } from '../wire';
import { bedrockBeta } from './betas';
import { EventStreamDecoder, EventStreamError, type EventMessage } from './event-stream';

export const BEDROCK_ANTHROPIC_VERSION = 'bedrock-2023-05-31';

/** The top-level fields InvokeModel takes for Claude (LiteLLM's allowlist, the same reason). */
const ALLOWED = new Set(['max_tokens', 'messages', 'system', 'stop_sequences', 'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'thinking', 'metadata', 'output_config']);
/** The one kind of context_management edit InvokeModel takes, and the beta it needs. */
const COMPACT_EDIT = 'compact_20260112';
const COMPACT_BETA = 'compact-2026-01-12';

function parsed(body: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(body.toString('utf8', start, end));
  } catch {
    return undefined;
  }
}

/** Members this large go out as views of the client's body; smaller pieces are joined. */
const BY_REFERENCE = 8 * 1024;

/**
 * The InvokeModel body from an Anthropic Messages body, in pieces: the large members are views of
 * the client's body (a 150 KB copy costs more than the rest of the call: its allocation is
 * mmap'ed and freed per request), the small ones and the new head are joined. `betaHeader` is the
 * client's anthropic-beta; `defaultMaxTokens` fills a missing max_tokens (count_tokens bodies have
 * none; Bedrock needs it).
 */
export function invokeBodyParts(body: Buffer, betaHeader: string | undefined, dropped?: Dropped, defaultMaxTokens?: number, scan?: BodyScan): Buffer[] {
  const kept: Buffer[] = [];
  const asked: string[] = betaHeader ? betaHeader.split(',') : [];
  let version: Buffer | null = null;
  let maxTokens = false;
  for (const m of topLevelMembers(body, scan)) {
    switch (m.key) {
      case 'model':
      case 'stream':
        continue;
      case 'anthropic_version':
        version = body.subarray(m.valueStart, m.valueEnd);
        continue;
      case 'anthropic_beta': {
        const v = parsed(body, m.valueStart, m.valueEnd);
        if (Array.isArray(v)) for (const b of v) asked.push(String(b));
        else if (typeof v === 'string') asked.push(...v.split(','));
        continue;
      }
      case 'context_management': {
        const cm = parsed(body, m.valueStart, m.valueEnd) as { edits?: unknown } | undefined;
        const edits = cm && Array.isArray(cm.edits) ? cm.edits.filter((e: { type?: unknown } | null) => e?.type === COMPACT_EDIT) : [];
        if (edits.length) {
          kept.push(Buffer.from(`"context_management":${JSON.stringify({ ...cm, edits })}`));
          asked.push(COMPACT_BETA);
        } else dropped?.item('context_management', 'context_management');
        continue;
      }
    }
    if (!ALLOWED.has(m.key)) {
      dropped?.item(m.key, 'field');
      continue;
    }
    if (m.key === 'max_tokens') maxTokens = true;
    kept.push(body.subarray(m.start, m.valueEnd));
  }
  const betas = new Set<string>();
  for (const raw of asked) {
    const b = raw.trim();
    if (!b) continue;
    const mapped = bedrockBeta(b);
    if (mapped) betas.add(mapped);
    else dropped?.item('anthropic-beta', b);
  }
  let head = `{"anthropic_version":${version ? version.toString('utf8') : JSON.stringify(BEDROCK_ANTHROPIC_VERSION)}`;
  if (betas.size) head += `,"anthropic_beta":${JSON.stringify([...betas])}`;
  if (!maxTokens && defaultMaxTokens !== undefined) head += `,"max_tokens":${defaultMaxTokens}`;
  const parts: Buffer[] = [];
  let small: Buffer[] = [Buffer.from(head)];
  for (const k of kept) {
    small.push(COMMA);
    if (k.length < BY_REFERENCE) {
      small.push(k);
      continue;
    }
    parts.push(small.length === 1 ? small[0]! : Buffer.concat(small));
    parts.push(k);
    small = [];
  }
  small.push(CLOSE);
  parts.push(small.length === 1 ? small[0]! : Buffer.concat(small));
  return parts;
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from('}');

/** The InvokeModel body in one Buffer (CountTokens wraps it in base64). */
export function invokeBody(body: Buffer, betaHeader: string | undefined, dropped?: Dropped, defaultMaxTokens?: number, scan?: BodyScan): Buffer {
  return Buffer.concat(invokeBodyParts(body, betaHeader, dropped, defaultMaxTokens, scan));
}

/** Anthropic's error type for a Bedrock exception frame (`:exception-type`). */
const ERROR_TYPES: Record<string, string> = {
  throttlingException: 'rate_limit_error',
  serviceUnavailableException: 'overloaded_error',
  modelNotReadyException: 'overloaded_error',
  validationException: 'invalid_request_error',
  accessDeniedException: 'permission_error',
  resourceNotFoundException: 'not_found_error',
  modelTimeoutException: 'timeout_error',
};

/** An Anthropic `error` event (the message is the provider's, JSON-encoded here). */
export function anthropicErrorEvent(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type, message } })}\n\n`;
}

/** The error event for an exception or error frame; null for a frame that is neither. */
export function frameError(m: EventMessage): string | null {
  const kind = m.headers[':message-type'];
  if (kind === 'exception') {
    const ex = m.headers[':exception-type'] ?? 'exception';
    const body = parsedPayload(m.payload) as { message?: unknown; Message?: unknown } | undefined;
    const msg = typeof body?.message === 'string' ? body.message : typeof body?.Message === 'string' ? body.Message : m.payload.toString('utf8').slice(0, 2000);
    return anthropicErrorEvent(ERROR_TYPES[ex] ?? 'api_error', `BedrockException - ${ex}: ${msg}`);
  }
  if (kind === 'error') {
    return anthropicErrorEvent('api_error', `BedrockException - ${m.headers[':error-code'] ?? 'error'}: ${m.headers[':error-message'] ?? ''}`);
  }
  return null;
}

function parsedPayload(p: Buffer): unknown {
  try {
    return JSON.parse(p.toString('utf8'));
  } catch {
    return undefined;
  }
}

const BYTES_KEY = Buffer.from('"bytes"');
const QUOTE = 0x22;
const TYPE_RE = /^\s*\{\s*"type"\s*:\s*"([A-Za-z_]+)"/;

/** The Anthropic event a `chunk` frame carries, as SSE. */
function chunkEvent(payload: Buffer): string | null {
  // {"bytes":"<base64>","p":"<padding>"}: the base64 is read where it lies, nothing else is parsed.
  const k = payload.indexOf(BYTES_KEY);
  if (k < 0) return null;
  const open = payload.indexOf(QUOTE, payload.indexOf(0x3a, k + BYTES_KEY.length) + 1);
  const close = open < 0 ? -1 : payload.indexOf(QUOTE, open + 1);
  if (close < 0) return null;
  const json = Buffer.from(payload.toString('latin1', open + 1, close), 'base64').toString('utf8');
  // The event's type leads its JSON; an event written otherwise is parsed to find it.
  const type = TYPE_RE.exec(json.slice(0, 64))?.[1] ?? (parsedPayload(Buffer.from(json)) as { type?: string } | undefined)?.type;
  return type ? `event: ${type}\ndata: ${json}\n\n` : null;
}

/**
 * Bedrock's event-stream frames read for an Anthropic stream (InvokeModel's and Converse's): a
 * corrupt stream, or one that ends inside a frame, ends with one Anthropic error event.
 */
export class BedrockFrames {
  private readonly frames = new EventStreamDecoder();
  broken = false;

  /** The frames `chunk` completed, or the error event that ends a corrupt stream (nothing after it). */
  push(chunk: Buffer): EventMessage[] | string {
    if (this.broken) return [];
    try {
      return this.frames.push(chunk);
    } catch (e) {
      this.broken = true;
      if (!(e instanceof EventStreamError)) throw e;
      return anthropicErrorEvent('api_error', `BedrockException - the event stream is corrupt: ${e.message}`);
    }
  }

  /** The error event of a stream that ended inside a frame, else ''. */
  end(): string {
    return !this.broken && this.frames.partial ? anthropicErrorEvent('api_error', 'BedrockException - the event stream ended inside a frame') : '';
  }
}

/** InvokeModelWithResponseStream's event stream → Anthropic SSE. */
export class InvokeStreamDecoder implements WireDecoder {
  private readonly frames = new BedrockFrames();

  push(chunk: Buffer): Buffer {
    const messages = this.frames.push(chunk);
    if (typeof messages === 'string') return Buffer.from(messages);
    if (messages.length === 0) return EMPTY;
    let out = '';
    for (const m of messages) {
      const ev = m.headers[':message-type'] === 'event' ? (m.headers[':event-type'] === 'chunk' ? chunkEvent(m.payload) : null) : frameError(m);
      if (ev) out += ev;
    }
    return out ? Buffer.from(out) : EMPTY;
  }

  end(): Buffer {
    const tail = this.frames.end();
    return tail ? Buffer.from(tail) : EMPTY;
  }
}

const EMPTY = Buffer.alloc(0);

/** CountTokens' reply `{"inputTokens": N}` as Anthropic's `{"input_tokens": N}`. */
export function countTokensAnswer(reply: Buffer): string {
  const v = parsedPayload(reply) as { inputTokens?: unknown } | undefined;
  const n = typeof v?.inputTokens === 'number' ? v.inputTokens : 0;
  return JSON.stringify({ input_tokens: n });
}
