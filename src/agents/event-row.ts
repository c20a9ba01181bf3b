// How one run event becomes a row of Weir_AgentRunEvent: the payload bounded (an agent can print a
// line of any length; one row must not be), the type made safe for a TEXT column and an SSE
// `event:` line, and the JSON made acceptable to JSONB (which refuses two escapes JSON.stringify
// writes: NUL and lone surrogates, both of which a parsed agent line may hold). And the event's own
// JSON (an SSE frame's data), made from the payload's JSON the row already has: each event is
// encoded once on the control thread, not once for its row and again for every watcher.
import type { RunEvent } from './types';

/** Payloads whose JSON is longer than this many bytes are cut. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Longest event type kept (a type is a short word; the rest is noise). */
const MAX_TYPE_CHARS = 100;

/** A payload's JSON text, bounded: the payload as kept (cut if it was too big) and its JSON. */
export interface BoundedPayload {
  payload: unknown;
  json: string;
}

function stringify(payload: unknown): string {
  try {
    // undefined (and functions) have no JSON: stored as null.
    return JSON.stringify(payload) ?? 'null';
  } catch (e) {
    // Cycles and BigInts cannot come from a parsed line; say so rather than throw on the hot loop.
    return JSON.stringify({ unserializable: true, message: (e as Error).message });
  }
}

/**
 * The payload's JSON, cut when above `maxBytes`: then the payload becomes
 * `{truncated: true, original_bytes, head}` with `head` the start of the JSON text, as much of it as
 * keeps the cut payload's own JSON within `maxBytes`, so a reader sees that something was cut and how much.
 */
export function boundPayload(payload: unknown, maxBytes = MAX_PAYLOAD_BYTES): BoundedPayload {
  const json = stringify(payload);
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no byte count.
  if (json.length * 3 <= maxBytes) return { payload, json };
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return { payload, json };
  const whole = Buffer.from(json);
  // The head is escaped again as a JSON string: quotes and backslashes double. First as much as
  // fits raw, then shrunk by the measured growth, then by the worst case (×2): three tries at most.
  const room = Math.max(0, maxBytes - 128);
  let keep = room;
  for (let attempt = 0; ; attempt++) {
    // toString replaces a character cut in half with U+FFFD: the head stays valid text.
    const cut = { truncated: true, original_bytes: bytes, head: whole.subarray(0, keep).toString('utf8') };
    const out = JSON.stringify(cut);
    const n = Buffer.byteLength(out);
    if (n <= maxBytes || attempt === 2) return { payload: cut, json: out };
    keep = attempt === 0 ? Math.max(0, Math.floor((keep * maxBytes) / n) - 64) : Math.floor(room / 2);
  }
}

/** A type as one printable line of bounded length ('stdout' when nothing is left). */
export function safeType(type: string): string {
  let t = type.length > MAX_TYPE_CHARS ? type.slice(0, MAX_TYPE_CHARS) : type;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) t = t.replace(/[\u0000-\u001f\u007f]/g, '');
  return t === '' ? 'stdout' : t;
}

/**
 * JSON text JSONB accepts. JSONB refuses two escapes JSON.stringify writes: `\u0000` (a NUL) and
 * a lone surrogate (`\ud800`; stringify escapes only unpaired ones, pairs stay raw). Both become
 * `\ufffd`. One pass, escape-aware, so a literal backslash followed by `u0000` is left alone.
 */
export function jsonbSafe(json: string): string {
  if (!json.includes('\\u0000') && !json.includes('\\ud')) return json;
  let out = '';
  let from = 0;
  for (let i = 0; i < json.length; i++) {
    if (json.charCodeAt(i) !== 92 /* \ */) continue;
    if (json.charCodeAt(i + 1) === 117 /* u */ && refused(json.slice(i + 2, i + 6))) {
      out += json.slice(from, i) + '\\ufffd';
      from = i + 6;
    }
    // Skip the escaped character: `\\` must not start another escape.
    i++;
  }
  return out + json.slice(from);
}

function refused(hex: string): boolean {
  if (hex === '0000') return true;
  const c = hex.charCodeAt(1);
  // d800–dfff: [89a-f] after the d (stringify writes lower case).
  return hex.charCodeAt(0) === 100 /* d */ && ((c >= 56 && c <= 57) || (c >= 97 && c <= 102));
}

/**
 * An event as append() made it: its JSON text, when first asked for, is spliced from the payload's
 * JSON (the private field is neither serialized nor copied by a spread, so a copy with another
 * payload falls back to JSON.stringify). The fields keep RunEvent's order, so the text is
 * JSON.stringify's.
 */
export class AppendedEvent implements RunEvent {
  readonly #payloadJson: string;
  #json: string | null = null;

  constructor(
    public seq: number,
    public ts: string,
    public type: string,
    public payload: unknown,
    payloadJson: string,
  ) {
    this.#payloadJson = payloadJson;
  }

  json(): string {
    if (this.#json !== null) return this.#json;
    // JSON.stringify leaves an undefined payload out; the payload's text would say null.
    this.#json = this.payload === undefined ? JSON.stringify({ seq: this.seq, ts: this.ts, type: this.type }) : `{"seq":${this.seq},"ts":${JSON.stringify(this.ts)},"type":${JSON.stringify(this.type)},"payload":${this.#payloadJson}}`;
    return this.#json;
  }
}

/** A run event's JSON text: encoded once for an appended event, else now. */
export function eventJson(e: RunEvent): string {
  return e instanceof AppendedEvent ? e.json() : JSON.stringify(e);
}
