// The bytes of JSON's syntax (and of SSE's line ends) that the byte-level walks look for: the body
// scan, the raw translation, the usage and stream readers.
//
// A const enum, so tsc writes every use as its number. As exported constants each use was a
// property load from another module's exports object, which V8 (11.3) does not fold into a
// constant (tsc's CommonJS output assigns every export twice, `void 0` first); in the scan's
// per-byte loop that was 6 % of the 148 KB body's scan (PERF.md, issue 15).
export const enum Byte {
  LF = 0x0a,
  CR = 0x0d,
  QUOTE = 0x22,
  COMMA = 0x2c,
  COLON = 0x3a,
  LBRACKET = 0x5b,
  BACKSLASH = 0x5c,
  RBRACKET = 0x5d,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
}
