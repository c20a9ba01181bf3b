// What every harness does with a line the agent printed: a JSON object that names its own `type`
// becomes an event of that type with the object as it is (unknown types and fields kept: both
// CLIs change every week); anything else (plain text, JSON without a type, binary, a line cut at
// the bound) is a `stdout` event holding the text. Never throws.
import { droppedBytes } from '../lines';

export interface ParsedLine {
  type: string;
  payload: unknown;
}

/** Longest `type` kept as an event type (a longer one is not a type, it is data). */
const MAX_TYPE = 100;

export function parseAgentLine(line: string, plainType = 'stdout'): ParsedLine {
  const dropped = droppedBytes(line);
  if (dropped === 0 && line.charCodeAt(0) === 123 /* { */) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      v = undefined;
    }
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const t = (v as { type?: unknown }).type;
      if (typeof t === 'string' && t.length > 0 && t.length <= MAX_TYPE) return { type: t, payload: v };
      return { type: plainType, payload: v };
    }
  }
  return { type: plainType, payload: dropped > 0 ? { text: line, truncated: true, dropped_bytes: dropped } : { text: line } };
}

/** The payload as an object, or undefined (payloads of text lines and arrays are not). */
export function record(payload: unknown): Record<string, unknown> | undefined {
  return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
