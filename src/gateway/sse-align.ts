// A passed-through SSE stream is forwarded one whole event at a time: the unterminated tail of an
// upstream chunk (an event the upstream split across TCP reads) waits for the rest of its event.
// The bytes the client receives are exactly the upstream's; only where the writes fall changes.
//
// Why: when the upstream dies mid-event, the gateway ends the stream with an `error` event. Written
// after half an event, it would be glued to it (`data: {"type":"content_blo` + `event: error…`), and
// the client would read one event of broken JSON instead of the error. Holding the tail back means
// the half event is simply dropped and the error event stands on its own.
//
// Cost: the usual chunk ends on an event boundary and is forwarded as it is (a look at its last
// bytes). Only a split event is copied, once, as its pieces arrive (SplitEvent), and each chunk is
// looked at once: a stream costs its length, however it is cut.
import { SplitEvent } from '../accounting/split-event';
import { scanSteps } from '../scan-steps';

const LF = 0x0a;
const CR = 0x0d;
const NONE = Buffer.alloc(0);

/**
 * Is b[j] (a line-ending byte) the end of an empty line, i.e. of an event? `before` holds the
 * bytes that precede b in the stream when b continues an unfinished event (else it is empty).
 */
function endsBlankLine(b: Buffer, j: number, before: Buffer): boolean {
  let k = j - 1;
  if (b[j] === LF && byteAt(b, before, k) === CR) k--; // CRLF is one line ending
  // Before the first byte of an event: a line start, so the line ending ends an empty line.
  if (k < -before.length) return true;
  const c = byteAt(b, before, k);
  return c === LF || c === CR;
}

/** b[i], reading into `before` for a negative i. */
function byteAt(b: Buffer, before: Buffer, i: number): number | undefined {
  return i >= 0 ? b[i] : before[before.length + i];
}

/**
 * Index just past the last complete event in b (the end of its last blank line), or 0. `before`:
 * the bytes of the unfinished event b continues, if any (only its last two are read).
 */
export function lastEventEnd(b: Buffer, before: Buffer = NONE): number {
  const n = b.length;
  // Fast path: `\n\n` or `\r\n\r\n` at the very end, as providers write their events.
  if (n >= 3 && b[n - 1] === LF && (b[n - 2] === LF || (b[n - 2] === CR && b[n - 3] === LF))) return n;
  // Hop backwards over line endings only (JSON data never holds a raw CR or LF); each byte is
  // searched once, so a stream without CRs costs one memrchr for them.
  let lf = b.lastIndexOf(LF, n - 1);
  let cr = b.lastIndexOf(CR, n - 1);
  // Each search ran from where the previous one of its kind stopped: both together crossed the
  // bytes from the lower of the two positions to the end, twice at most.
  let steps = 2 * n - lf - cr;
  while (lf >= 0 || cr >= 0) {
    const j = Math.max(lf, cr);
    if (endsBlankLine(b, j, before)) {
      scanSteps.n += steps;
      return j + 1;
    }
    // lastIndexOf with a negative offset counts from the end: stop at the first byte instead.
    if (j === lf) {
      lf = j > 0 ? b.lastIndexOf(LF, j - 1) : -1;
      steps += j - lf;
    } else {
      cr = j > 0 ? b.lastIndexOf(CR, j - 1) : -1;
      steps += j - cr;
    }
  }
  scanSteps.n += steps;
  return 0;
}

/**
 * An event longer than this is forwarded as it arrives rather than held whole: the gateway's memory
 * per stream stays bounded whatever the upstream sends (a clean error after a cut is then lost
 * for that one giant event only).
 */
export const MAX_HELD_BYTES = 1024 * 1024;

export class EventAligner {
  /** The unfinished event, copied (the upstream's chunk buffers are not ours to keep). */
  private readonly held = new SplitEvent();

  /** The bytes to forward now: what was held and `chunk`, up to the last complete event. */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const end = lastEventEnd(chunk, this.held.bytes());
    if (end === 0) {
      // Still inside one event: kept until its end arrives, or forwarded once it is too long.
      this.held.append(chunk, 0, chunk.length);
      if (this.held.length <= MAX_HELD_BYTES) return NONE;
      return this.release();
    }
    let out = end === chunk.length ? chunk : chunk.subarray(0, end);
    if (this.held.length > 0) {
      this.held.append(chunk, 0, end);
      out = this.release();
    }
    if (end < chunk.length) this.held.append(chunk, end, chunk.length);
    return out;
  }

  /** The upstream ended cleanly: everything still held (a last event without its blank line). */
  end(): Buffer | null {
    return this.held.length === 0 ? null : this.release();
  }

  /** The stream failed: the unfinished event is dropped, so the error event that follows stands alone. */
  discard(): void {
    this.held.clear();
  }

  private release(): Buffer {
    const out = this.held.bytes();
    this.held.clear();
    return out;
  }
}
