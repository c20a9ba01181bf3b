// A live terminal's size as its viewers give it (README, "Live terminal"): `?cols=N&rows=N` on the
// attach upgrade, and text frames `{"type":"resize","cols":N,"rows":N}` while attached. Binary
// frames are keystrokes; so is a text frame that is not a JSON object with a "type" (clients from
// before resize typed in text frames, and still may). Bounds: 1 to 1000 columns and rows, more
// than any window has, so a size past them is certainly a client's bug. Pure and small: the worker checks frames with it before anything
// crosses to the control thread, the control thread checks the attach query with it.
import type { StreamControl } from '../server/worker-protocol';

export const MAX_TERMINAL_SIDE = 1000;

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** A size or control message that is certainly wrong; `param` names what. */
export class TerminalSizeError extends Error {
  constructor(
    message: string,
    readonly param: 'cols' | 'rows' | 'type',
  ) {
    super(message);
  }
}

const bounds = (name: string) => `"${name}" must be an integer from 1 to ${MAX_TERMINAL_SIDE}`;

function side(v: unknown, name: 'cols' | 'rows'): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_TERMINAL_SIDE) return v;
  const got = v === undefined ? 'it is missing; cols and rows go together' : `got ${JSON.stringify(v)?.slice(0, 40)}`;
  throw new TerminalSizeError(`${bounds(name)} (${got})`, name);
}

/** The size asked for at attach, or null when the query gives none; throws on a bad one. */
export function sizeFromQuery(q: URLSearchParams): TerminalSize | null {
  const cols = q.get('cols');
  const rows = q.get('rows');
  if (cols === null && rows === null) return null;
  const num = (s: string | null) => (s === null ? undefined : /^\d{1,4}$/.test(s) ? Number(s) : s);
  return { cols: side(num(cols), 'cols'), rows: side(num(rows), 'rows') };
}

/**
 * A text frame from a viewer: a control message to pass on, null for keystrokes, or a
 * TerminalSizeError thrown for a control message that is wrong (its sender is told; nothing else
 * happens). Linear in the frame; only a frame that starts with `{` is parsed at all.
 */
export function controlOf(frame: Buffer): StreamControl | null {
  let i = 0;
  while (i < frame.length && (frame[i] === 0x20 || frame[i] === 0x09 || frame[i] === 0x0a || frame[i] === 0x0d)) i++;
  if (frame[i] !== 0x7b) return null;
  let msg: unknown;
  try {
    msg = JSON.parse(frame.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || typeof (msg as { type?: unknown }).type !== 'string') return null;
  const m = msg as { type: string; cols?: unknown; rows?: unknown };
  if (m.type !== 'resize') throw new TerminalSizeError(`unknown control message type ${JSON.stringify(m.type.slice(0, 40))}: the only one is "resize" ({"type":"resize","cols":N,"rows":N}); keystrokes go in binary frames`, 'type');
  return { type: 'resize', cols: side(m.cols, 'cols'), rows: side(m.rows, 'rows') };
}
