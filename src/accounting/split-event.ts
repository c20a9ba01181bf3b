// The bytes of an SSE event that an upstream split across chunks, copied as they arrive into one
// buffer that doubles when it is full. Each byte is copied once (and the doublings add at most as
// much again), however many chunks the event comes in: a list of pieces joined again on every
// chunk costs the event's length per chunk, and a piece per chunk costs an object per byte when
// a stream arrives byte by byte. The bytes so far are always one contiguous view, so a scanner
// can look at what is new, and back across the joins.
//
// A view handed out keeps its bytes: bytes already written are never written again. Growing
// copies into a new buffer, and `clear` leaves the buffer to the views and starts the next event
// in a new one, so bytes passed on to a socket write are not overwritten by the next event.
import { scanSteps } from '../scan-steps';

/** The smallest buffer: an event's first piece gets twice its length, at least this. */
const MIN_CAPACITY = 256;
const EMPTY = Buffer.alloc(0);

export class SplitEvent {
  private buf = EMPTY;
  private len = 0;
  /** The last view bytes() made, while no byte has been added since (views cost an allocation). */
  private view = EMPTY;

  get length(): number {
    return this.len;
  }

  /** Copies src[from, to) after the bytes so far. */
  append(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.len + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * (this.len + n), MIN_CAPACITY));
      this.buf.copy(grown, 0, 0, this.len);
      scanSteps.n += this.len;
      this.buf = grown;
    }
    src.copy(this.buf, this.len, from, to);
    scanSteps.n += n;
    this.len += n;
  }

  /** The bytes so far: a view that keeps them whatever happens next. */
  bytes(): Buffer {
    if (this.view.length !== this.len) this.view = this.buf.subarray(0, this.len);
    return this.view;
  }

  /** The event is over: the next one starts in a new buffer. */
  clear(): void {
    this.buf = this.view = EMPTY;
    this.len = 0;
  }
}
