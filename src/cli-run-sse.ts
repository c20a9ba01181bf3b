// Following a run's events as server-sent events: the SSE parser (text/event-stream framing, one
// pass over the input, an event bounded in size) and the follower that reconnects with
// Last-Event-ID when the connection drops, so each event is handed on exactly once, in order.
import { FINAL_STATUSES, type RunStatus } from './agents/types';
import type { ShownEvent } from './cli-run-format';

/** An event's data past this is refused rather than buffered (Weir's own events are far smaller). */
export const MAX_EVENT_BYTES = 16 * 2 ** 20;

export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/**
 * Incremental text/event-stream parser. Lines end with \n, \r\n or \r; a blank line ends an
 * event; `:` lines are comments (keep-alives). Text not yet ending in a newline is kept for the
 * next chunk, and scanning resumes where it stopped, so a stream is read once whatever its chunks.
 */
export class SseParser {
  private buf = '';
  private scanFrom = 0;
  private id: string | null = null;
  private event = '';
  private data: string[] = [];
  private dataChars = 0;

  /** Feeds a chunk; returns the events it completed. */
  feed(text: string): SseMessage[] {
    const out: SseMessage[] = [];
    this.buf += text;
    let start = 0;
    let i = this.scanFrom;
    while (i < this.buf.length) {
      const c = this.buf.charCodeAt(i);
      if (c !== 10 && c !== 13) {
        i++;
        continue;
      }
      // A \r as the last character may be the first half of \r\n: wait for the next chunk.
      if (c === 13 && i + 1 === this.buf.length) break;
      this.line(this.buf.slice(start, i), out);
      i += c === 13 && this.buf.charCodeAt(i + 1) === 10 ? 2 : 1;
      start = i;
    }
    this.buf = this.buf.slice(start);
    this.scanFrom = i - start;
    if (this.buf.length + this.dataChars > MAX_EVENT_BYTES) throw new Error(`an event of the stream passed ${MAX_EVENT_BYTES} bytes`);
    return out;
  }

  private line(l: string, out: SseMessage[]): void {
    if (l === '') {
      if (this.data.length) out.push({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      this.dataChars = 0;
      return;
    }
    if (l.charCodeAt(0) === 58) return; // ':' comment
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataChars += value.length + 1;
    } else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    // retry and unknown fields: ignored, as the SSE spec says.
  }
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an error body in either dialect (OpenAI's or Anthropic's), else its text. */
export function errorMessage(status: number, text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message ?? j.detail);
    if (typeof m === 'string' && m) return `HTTP ${status}: ${m}`;
  } catch {
    /* not JSON */
  }
  return `HTTP ${status}${text.trim() ? `: ${text.trim().slice(0, 300)}` : ''}`;
}

/** An event's data is JSON(event); anything else is shown as it came (under the SSE event name), never dropped. */
function parseEvent(m: SseMessage): ShownEvent {
  try {
    const e = JSON.parse(m.data) as ShownEvent;
    if (e !== null && typeof e === 'object' && typeof e.type === 'string') return e;
  } catch {
    /* shown raw below */
  }
  return { seq: NaN, ts: '', type: m.event, payload: m.data };
}

export function isFinalStatusEvent(e: ShownEvent): boolean {
  if (e.type !== 'status' || e.payload === null || typeof e.payload !== 'object') return false;
  return FINAL_STATUSES.has((e.payload as { status?: unknown }).status as RunStatus);
}

export interface FollowOptions {
  baseUrl: string;
  runId: string;
  key: string;
  onEvent(e: ShownEvent): void;
  /**
   * Asked when a stream ended cleanly without the final status event (Weir ends the stream of a
   * finished run after its replay even when that event is missing): the run's final status, or
   * null when it is still going (the follower then reconnects).
   */
  finalStatus?(): Promise<{ status: string; error?: unknown } | null>;
  /** Told as each connection is asked for (a bench tells events that were there before it asked). */
  onConnect?(): void;
  /** Told when the stream dropped and the follower is about to reconnect. */
  onReconnect?(attempt: number, why: string): void;
  /** Connection attempts in a row that may fail (no event received) before giving up. */
  maxFailures?: number;
  /** Backoff before the n-th reconnection (default 250 ms doubling to 5 s). */
  backoffMs?(n: number): number;
  signal?: AbortSignal;
}

/**
 * Reads GET /v1/agent/runs/{id}/events as SSE until the run's final status event, reconnecting
 * with Last-Event-ID when the stream ends or breaks before it. Returns the final status event.
 * A 4xx answer is thrown at once (HttpStatusError); 5xx and network errors are retried.
 */
export async function followEvents(o: FollowOptions): Promise<ShownEvent> {
  const url = `${o.baseUrl}/v1/agent/runs/${encodeURIComponent(o.runId)}/events`;
  const maxFailures = o.maxFailures ?? 8;
  const backoff = o.backoffMs ?? ((n: number) => Math.min(5000, 250 * 2 ** (n - 1)));
  let lastId: string | null = null;
  let lastSeq = -Infinity;
  let failures = 0;
  for (;;) {
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${o.key}` };
    if (lastId !== null) headers['last-event-id'] = lastId;
    let why: string;
    try {
      o.onConnect?.();
      const res = await fetch(url, { headers, signal: o.signal });
      if (res.status >= 400 && res.status < 500) throw new HttpStatusError(res.status, errorMessage(res.status, await res.text()));
      if (!res.ok || !res.body) {
        why = errorMessage(res.status, await res.text());
      } else {
        const parser = new SseParser();
        const decoder = new TextDecoder();
        const reader = res.body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            for (const m of parser.feed(decoder.decode(value, { stream: true }))) {
              const e = parseEvent(m);
              const seq = Number.isFinite(e.seq) ? e.seq : null;
              if (seq !== null && seq <= lastSeq) continue; // a replay after reconnecting
              if (seq !== null) lastSeq = seq;
              lastId = m.id ?? (seq !== null ? String(seq) : lastId);
              failures = 0;
              o.onEvent(e);
              if (isFinalStatusEvent(e)) {
                await reader.cancel().catch(() => {});
                return e;
              }
            }
          }
          const over = await o.finalStatus?.().catch(() => null);
          if (over) {
            const e: ShownEvent = { seq: Number.isFinite(lastSeq) ? lastSeq : 0, ts: new Date().toISOString(), type: 'status', payload: over.error ? { status: over.status, error: over.error } : { status: over.status } };
            o.onEvent(e);
            return e;
          }
          why = 'the stream ended before the run did';
        } finally {
          reader.releaseLock();
        }
      }
    } catch (e) {
      if (e instanceof HttpStatusError || o.signal?.aborted) throw e;
      why = (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message;
    }
    failures++;
    if (failures > maxFailures) throw new Error(`lost the event stream ${maxFailures} times in a row (last: ${why})`);
    o.onReconnect?.(failures, why);
    await new Promise((r) => setTimeout(r, backoff(failures)));
  }
}
