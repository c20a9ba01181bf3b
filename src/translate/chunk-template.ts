// The text chunks of one OpenAI chat stream differ only in their content: the id, model, created,
// fingerprint and choice around it repeat byte for byte. A chunk that is the template's bytes
// around one JSON string is a text chunk with that content, read without parsing the rest of it
// (JSON.parse of every chunk was the largest cost of translating a stream). The template is a
// text chunk's shape (chunk-shapes.ts) with this stream's own id and created written in: the
// shape proved that any string in the content's place gives that chunk with that content.
// OpenAI's chunks end in an `obfuscation` string that changes on every chunk; it is a second
// hole, and its value is not returned (the translator never reads it).
import { lastStringEscaped, stringEnd } from './json-tokens';

export class ChunkTemplate {
  /**
   * The bytes around the content; with OpenAI's `obfuscation` (a random string of random length on
   * every chunk, which the translator never reads), `mid` lies between the content and it.
   */
  constructor(
    private readonly prefix: string,
    private readonly mid: string | null,
    private readonly suffix: string,
  ) {}

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
    const contentEscaped = lastStringEscaped();
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
