// The text chunks of one OpenAI chat stream differ only in their content: the id, model, created,
// fingerprint and choice around it repeat byte for byte. Once one such chunk was parsed, the
// bytes before its content value and after it are a template; a later chunk that is those same
// bytes around one JSON string is that chunk with another content, read without parsing the rest
// of it (JSON.parse of the whole chunk was the largest cost of translating a stream).
//
// Exact by construction: the template is kept only when the chunk with a probe string put in the
// content's place parses back to the same chunk with the probe as its content. JSON is
// context-free, so any string value in that place then gives that chunk with that string, and a
// middle that is not exactly one JSON string is left to the full parse. OpenAI's chunks end in an
// `obfuscation` string that changes on every chunk; it is a second hole, probed the same way, and
// its value is not returned (the translator never reads it).
import type { Obj } from './shape';

const PROBE = '\u0000weir-probe';
const PROBE_JSON = JSON.stringify(PROBE);
const PROBE2 = '\u0000weir-probe-2';
const PROBE2_JSON = JSON.stringify(PROBE2);

export class ChunkTemplate {
  /**
   * The bytes around the content; with OpenAI's `obfuscation` (a random string of random length on
   * every chunk, which the translator never reads), `mid` lies between the content and it.
   */
  private constructor(
    private readonly prefix: string,
    private readonly mid: string | null,
    private readonly suffix: string,
  ) {}

  /**
   * A template from `data`, the raw text of `chunk` (as JSON.parse read it), whose
   * choices[0].delta.content is `content`; null when the content's bytes cannot be told apart.
   */
  static learn(data: string, chunk: Obj, content: string): ChunkTemplate | null {
    const token = JSON.stringify(content);
    const obf = typeof chunk.obfuscation === 'string' ? JSON.stringify(chunk.obfuscation) : null;
    const obfAt = obf === null ? data.length : data.lastIndexOf(obf);
    const at = obfAt - token.length < 0 ? -1 : data.lastIndexOf(token, obfAt - token.length);
    if (at < 0 || obfAt < 0) return null;
    const prefix = data.slice(0, at);
    const mid = obf === null ? null : data.slice(at + token.length, obfAt);
    const suffix = data.slice(obf === null ? at + token.length : obfAt + obf.length);
    let probe: unknown;
    try {
      probe = JSON.parse(prefix + PROBE_JSON + (mid === null ? '' : mid + PROBE2_JSON) + suffix);
    } catch {
      return null;
    }
    const delta = contentHolder(probe);
    if (delta === null || delta.content !== PROBE) return null;
    if (mid !== null && (probe as Obj).obfuscation !== PROBE2) return null;
    delta.content = content;
    if (mid !== null) (probe as Obj).obfuscation = chunk.obfuscation;
    return JSON.stringify(probe) === JSON.stringify(chunk) ? new ChunkTemplate(prefix, mid, suffix) : null;
  }

  /**
   * The content of `data` as a JSON string token, exactly as JSON.stringify writes that content,
   * when `data` is the template around one JSON string (two with `mid`), else undefined; the
   * content's length is then tokenChars(). A token without escapes is the input's
   * own bytes: JSON.stringify writes such a string as it is, since a decoded chunk holds no lone
   * surrogate and stringEnd refused raw control characters.
   */
  token(data: string): string | undefined {
    const p = this.prefix.length;
    // Compared as slices: V8's string equality is a memcmp, startsWith a slower walk.
    if (data.length < p + 2 + this.suffix.length || data.slice(0, p) !== this.prefix) return undefined;
    const end = stringEnd(data, p);
    if (end < 0) return undefined;
    const contentEscaped = escaped;
    let tail = end;
    if (this.mid !== null) {
      if (data.slice(end, end + this.mid.length) !== this.mid) return undefined;
      tail = stringEnd(data, end + this.mid.length);
      if (tail < 0) return undefined;
    }
    if (data.length - tail !== this.suffix.length || data.slice(tail) !== this.suffix) return undefined;
    if (!contentEscaped) {
      chars = end - p - 2;
      return data.slice(p, end);
    }
    let v: unknown;
    try {
      v = JSON.parse(data.slice(p, end));
    } catch {
      return undefined; // an escape JSON does not have
    }
    if (typeof v !== 'string') return undefined;
    chars = v.length;
    return JSON.stringify(v);
  }
}

/** The length of the content whose token ChunkTemplate.token last returned. */
let chars = 0;

export function tokenChars(): number {
  return chars;
}

/** Set by stringEnd: the string it crossed holds a backslash. */
let escaped = false;

/**
 * Index just past the JSON string token at data[i] (the opening quote), or -1 when there is none
 * there or it holds a raw control character. Escapes are stepped over, not checked (JSON.parse does).
 */
function stringEnd(data: string, i: number): number {
  escaped = false;
  if (data.charCodeAt(i) !== 0x22) return -1;
  for (let j = i + 1; j < data.length; j++) {
    const c = data.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c === 0x5c) {
      escaped = true;
      j++;
    } else if (c < 0x20) return -1;
  }
  return -1;
}

/** choices[0].delta of a parsed chunk, when it has that shape. */
function contentHolder(chunk: unknown): Obj | null {
  if (typeof chunk !== 'object' || chunk === null) return null;
  const choices = (chunk as Obj).choices;
  if (!Array.isArray(choices) || choices.length !== 1) return null;
  const choice: unknown = choices[0];
  if (typeof choice !== 'object' || choice === null) return null;
  const delta = (choice as Obj).delta;
  return typeof delta === 'object' && delta !== null && !Array.isArray(delta) ? (delta as Obj) : null;
}
