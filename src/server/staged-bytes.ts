// The bytes a streamed response was given in this event-loop turn, copied as they come: the
// uWS exchange sends them in one write at the end of the turn (see UwsExchange.write). Copied,
// because a caller's Buffer is not ours to keep past its call: undici's chunks and the SSE
// aligner's views may be reused by their owners once the call returns.
//
// The backing buffers are reused across responses from a small per-thread spare list, so a stream
// costs no allocation in the usual case; a buffer that a burst grew past SPARE_MAX is left to the
// GC instead of being kept.

const FIRST = 16 * 1024;
const SPARE_MAX = 64 * 1024;
const SPARES_KEPT = 32;
const spares: Buffer[] = [];

export class StagedBytes {
  private buf: Buffer | null = null;
  /** Bytes staged in buf. */
  length = 0;

  append(chunk: Buffer | string): void {
    if (typeof chunk === 'string') {
      // UTF-8 takes at most 3 bytes per UTF-16 unit; measure exactly only when that might not fit.
      const room = this.room(chunk.length * 3) ? chunk.length * 3 : Buffer.byteLength(chunk);
      this.reserve(room);
      this.length += this.buf!.write(chunk, this.length, 'utf8');
      return;
    }
    this.reserve(chunk.length);
    this.length += chunk.copy(this.buf!, this.length);
  }

  /** The staged bytes (a view, valid until the next append or clear). */
  bytes(): Buffer {
    return this.buf!.subarray(0, this.length);
  }

  /** Forgets the staged bytes; the buffer stays for the next turn. */
  clear(): void {
    this.length = 0;
  }

  /** The response is over: the buffer goes back to the spare list. */
  release(): void {
    const b = this.buf;
    this.buf = null;
    this.length = 0;
    if (b && b.length <= SPARE_MAX && spares.length < SPARES_KEPT) spares.push(b);
  }

  private room(n: number): boolean {
    return this.buf !== null && this.buf.length - this.length >= n;
  }

  private reserve(n: number): void {
    if (this.room(n)) return;
    const need = this.length + n;
    let b = this.buf === null && need <= FIRST ? spares.pop() : undefined;
    if (!b) {
      let size = Math.max(FIRST, this.buf ? this.buf.length * 2 : 0);
      while (size < need) size *= 2;
      b = Buffer.allocUnsafe(size);
    }
    if (this.buf && this.length) this.buf.copy(b, 0, 0, this.length);
    // The old buffer goes back if it is the usual size (a burst outgrew it: the spare is still good).
    if (this.buf && this.buf.length <= SPARE_MAX && spares.length < SPARES_KEPT) spares.push(this.buf);
    this.buf = b;
  }
}
