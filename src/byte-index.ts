// Buffer#indexOf for the byte-level walks (the body scan, the raw translation, the usage and
// journal readers), called through a reference to the method taken once.
//
// Why: written `b.indexOf(x, i)`, every call looks the method up on the buffer, and in optimized
// code V8 (11.3, Node 20) leaves that lookup to its generic inline-cache stub instead of folding
// it to the one method it always finds (a call of the `LoadIC` builtin per search, in `perf`). A
// Claude Code body of 148 KB holds thousands of strings, a search each: its scan took 15–20 µs
// less with the method called through this reference (PERF.md, issue 15).
const bufferIndexOf = Buffer.prototype.indexOf;

/** The first index ≥ from of `byte` in b, or -1: b.indexOf(byte, from). */
export function indexOfByte(b: Buffer, byte: number, from: number): number {
  return bufferIndexOf.call(b, byte, from);
}
