// Cuts an agent's output stream into lines, whatever it prints: chunks split anywhere (mid-line,
// mid-character), binary, invalid UTF-8, lines without end. A line is held only up to a bound;
// the rest of a longer one is counted and dropped, and the kept part says so at its end, so a
// process printing gigabytes without a newline costs at most the bound in memory.
//
// Linear: each byte is looked at once (indexOf for the newline), pieces of a line are kept in a
// list and joined once when the line ends.

/** Bytes kept of one line (the rest is dropped and counted). */
export const MAX_LINE_BYTES = 1024 * 1024;

/** What a cut line ends with; `parseCutNotice` reads it back. */
const CUT_SUFFIX = (dropped: number) => ` [weir: line cut, ${dropped} more bytes dropped]`;
const CUT_PATTERN = / \[weir: line cut, (\d+) more bytes dropped\]$/;

/** The number of bytes dropped from a line LineSplitter cut, or 0 when it was whole. */
export function droppedBytes(line: string): number {
  const m = CUT_PATTERN.exec(line);
  return m ? Number(m[1]) : 0;
}

export type OnLine = (line: string) => void;

export class LineSplitter {
  private pieces: Buffer[] = [];
  private held = 0;
  private dropped = 0;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** Feeds a chunk; calls onLine for every line it completes (without its `\n` or `\r\n`). */
  push(chunk: Buffer, onLine: OnLine): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      this.hold(chunk.subarray(start, end));
      if (nl === -1) return;
      this.emit(onLine);
      start = nl + 1;
    }
  }

  /** The stream ended: the last line, if it had no newline. */
  end(onLine: OnLine): void {
    if (this.held > 0 || this.dropped > 0) this.emit(onLine);
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return;
    const room = this.maxBytes - this.held;
    if (room >= part.length) {
      // Copied: the caller may reuse its chunk buffer.
      this.pieces.push(Buffer.from(part));
      this.held += part.length;
      return;
    }
    if (room > 0) {
      this.pieces.push(Buffer.from(part.subarray(0, room)));
      this.held += room;
    }
    this.dropped += part.length - Math.max(room, 0);
  }

  private emit(onLine: OnLine): void {
    const buf = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.held);
    let line = buf.toString('utf8'); // invalid sequences become U+FFFD; never throws
    if (this.dropped === 0 && line.endsWith('\r')) line = line.slice(0, -1);
    if (this.dropped > 0) line += CUT_SUFFIX(this.dropped);
    this.pieces = [];
    this.held = 0;
    this.dropped = 0;
    onLine(line);
  }
}
