// The text chunks of one OpenAI chat stream differ only in their content: the id, model, created,
// fingerprint and choice around it repeat byte for byte. Once one such chunk was parsed, the
// bytes before its content value and after it are a template; a later chunk that is those same
// bytes around one JSON string is that chunk with another content, read without parsing the rest
// of it (JSON.parse of the whole chunk was the largest cost of translating a stream).
//
// Exact by construction: the template is kept only when the chunk with a probe string put in the
// content's place parses back to the same chunk with the probe as its content. JSON is
// context-free, so any string value in that place then gives that chunk with that string, and a
// middle that is not exactly one JSON string is left to the full parse.
import type { Obj } from './shape';

const PROBE = '\u0000weir-probe';
const PROBE_JSON = JSON.stringify(PROBE);

export class ChunkTemplate {
  private constructor(
    private readonly prefix: string,
    private readonly suffix: string,
  ) {}

  /**
   * A template from `data`, the raw text of `chunk` (as JSON.parse read it), whose
   * choices[0].delta.content is `content`; null when the content's bytes cannot be told apart.
   */
  static learn(data: string, chunk: Obj, content: string): ChunkTemplate | null {
    const token = JSON.stringify(content);
    const at = data.lastIndexOf(token);
    if (at < 0) return null;
    const prefix = data.slice(0, at);
    const suffix = data.slice(at + token.length);
    let probe: unknown;
    try {
      probe = JSON.parse(prefix + PROBE_JSON + suffix);
    } catch {
      return null;
    }
    const delta = contentHolder(probe);
    if (delta === null || delta.content !== PROBE) return null;
    delta.content = content;
    return JSON.stringify(probe) === JSON.stringify(chunk) ? new ChunkTemplate(prefix, suffix) : null;
  }

  /** The content of `data` when it is the template around one JSON string, else undefined. */
  content(data: string): string | undefined {
    const end = data.length - this.suffix.length;
    if (end - this.prefix.length < 2 || data.charCodeAt(this.prefix.length) !== 0x22) return undefined;
    // Compared as slices: V8's string equality is a memcmp, startsWith a slower walk.
    if (data.slice(0, this.prefix.length) !== this.prefix || data.slice(end) !== this.suffix) return undefined;
    const from = this.prefix.length + 1;
    const to = end - 1;
    // The usual content has no escape: it is its own value (one look at each character).
    let plain = data.charCodeAt(to) === 0x22;
    for (let i = from; plain && i < to; i++) {
      const c = data.charCodeAt(i);
      plain = c !== 0x22 && c !== 0x5c && c >= 0x20;
    }
    if (plain) return data.slice(from, to);
    let v: unknown;
    try {
      v = JSON.parse(data.slice(from - 1, end));
    } catch {
      return undefined;
    }
    return typeof v === 'string' ? v : undefined;
  }
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
