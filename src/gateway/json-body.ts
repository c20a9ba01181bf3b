// A translated request body read and written in fewer passes than `JSON.parse(raw.toString())` and
// `Buffer.from(JSON.stringify(v))` make on Node 20. Translation is the one place Weir reads a whole
// body, and Claude Code sends ~150 KB per call, so what are small costs elsewhere add up here
// (scenario 7 of `npm run bench`; PERF.md has the figures):
//  - Decoding. V8 11.3's UTF-8 decoder is about 3× slower on a buffer with any non-ASCII byte (an
//    arrow or an accent in a code comment is enough) than on an ASCII one. ICU's transcode to UTF-16
//    plus a copy into the string is faster, and gives the same string for valid UTF-8, which simdutf
//    checks first (a few µs). Anything else takes the plain path and its U+FFFD rules.
//  - Encoding. Buffer.from(string) measures the string's UTF-8 length, then encodes it: two passes
//    over ~150 K characters. Encoding once into a per-thread scratch buffer and copying the bytes
//    out is cheaper (a memcpy), and leaves no oversized buffer behind.
import { isAscii, isUtf8, transcode } from 'node:buffer';

/** Below this, the plain calls: the savings are per byte, the checks are not. */
const MIN_BYTES = 4096;
/** The scratch buffer stops growing here (3 bytes per UTF-16 unit: strings up to ~1.4 M units). */
const SCRATCH_MAX = 4 * 1024 * 1024;

/** The body's text, exactly as `raw.toString('utf8')` gives it. */
export function bodyText(raw: Buffer): string {
  if (raw.length < MIN_BYTES || isAscii(raw) || !isUtf8(raw)) return raw.toString('utf8');
  try {
    return transcode(raw, 'utf8', 'utf16le').toString('utf16le');
  } catch {
    return raw.toString('utf8'); // a Node built without ICU
  }
}

let scratch: Buffer | null = null;

/** `Buffer.from(JSON.stringify(v))`, encoded in one pass. */
export function jsonBytes(v: unknown): Buffer {
  const s = JSON.stringify(v);
  const max = s.length * 3; // the most UTF-8 bytes one UTF-16 unit takes (a lone surrogate: 3)
  if (s.length < MIN_BYTES || max > SCRATCH_MAX) return Buffer.from(s);
  if (scratch === null || scratch.length < max) scratch = Buffer.allocUnsafeSlow(max);
  const n = scratch.write(s, 0, 'utf8');
  // A copy of the bytes: the scratch buffer is reused by the next call (synchronously, so this
  // one's bytes are already copied out).
  return Buffer.from(scratch.subarray(0, n));
}
