// What a streamed response was given in this event-loop turn: the uWS exchange sends it in one
// write at the end of the turn (see UwsExchange.write). Buffers are copied as they come, because
// a caller's Buffer is not ours to keep past its call: undici's chunks and the SSE aligner's views
// may be reused by their owners once the call returns. Strings are immutable: they are kept and
// encoded together when the bytes are needed.
//
// The backing buffers are reused from a small per-thread spare list, so a turn's bytes cost no
// allocation in the usual case; a buffer that a burst grew past SPARE_MAX is left to the GC
// instead of being kept.

const FIRST = 16 * 1024;
const SPARE_MAX = 64 * 1024;
const SPARES_KEPT = 16;
const spares: Buffer[] = [];

/**
 * A spare of at least `n` bytes, taken off the list. Spares come in the sizes bursts grew them to
 * (16 to 64 KB): a translated stream's text needs more than the first size on every turn that
 * carries it whole, and found none it could use when only a first-size spare was taken.
 */
function spareOf(n: number): Buffer | undefined {
  for (let i = spares.length - 1; i >= 0; i--) {
    const s = spares[i]!;
    if (s.length < n) continue;
    spares[i] = spares[spares.length - 1]!;
    spares.pop();
    return s;
  }
  return undefined;
}

export class StagedBytes {
  private buf: Buffer | null = null;
  /** Bytes staged in buf. */
  private used = 0;
  /**
   * Text appended since the last Buffer, encoded only when bytes are needed: a translated stream
   * gives a string per upstream event, and one encode per turn costs less than one per event.
   */
  private text = '';

  get empty(): boolean {
    return this.used === 0 && this.text.length === 0;
  }

  append(chunk: Buffer | string): void {
    if (typeof chunk === 'string') {
      this.text += chunk;
      return;
    }
    this.encodeText();
    this.reserve(chunk.length);
    this.used += chunk.copy(this.buf!, this.used);
  }

  /** The staged bytes (a view, valid until the next append or release). */
  bytes(): Buffer {
    this.encodeText();
    return this.buf!.subarray(0, this.used);
  }

  /**
   * Forgets the staged bytes, and the buffer goes back to the spare list: once sent (uWS copies
   * what it cannot send at once), a turn's bytes are not needed, so only the answers with bytes
   * waiting in this very turn hold a buffer, however many streams are open.
   */
  release(): void {
    const b = this.buf;
    this.buf = null;
    this.used = 0;
    this.text = '';
    if (b && b.length <= SPARE_MAX && spares.length < SPARES_KEPT) spares.push(b);
  }

  private encodeText(): void {
    const t = this.text;
    if (t.length === 0) return;
    this.text = '';
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for that, when it is no more than a spare
    // holds, costs no measuring (a walk of the text) and finds a spare the next time too.
    const most = t.length * 3;
    this.reserve(this.room(most) || most <= SPARE_MAX ? most : Buffer.byteLength(t));
    this.used += this.buf!.write(t, this.used, 'utf8');
  }

  private room(n: number): boolean {
    return this.buf !== null && this.buf.length - this.used >= n;
  }

  private reserve(n: number): void {
    if (this.room(n)) return;
    const need = this.used + n;
    let b = this.buf === null ? spareOf(need) : undefined;
    if (!b) {
      let size = Math.max(FIRST, this.buf ? this.buf.length * 2 : 0);
      while (size < need) size *= 2;
      b = Buffer.allocUnsafe(size);
    }
    if (this.buf && this.used) this.buf.copy(b, 0, 0, this.used);
    // The old buffer goes back if it is the usual size (a burst outgrew it: the spare is still good).
    if (this.buf && this.buf.length <= SPARE_MAX && spares.length < SPARES_KEPT) spares.push(this.buf);
    this.buf = b;
  }
}
