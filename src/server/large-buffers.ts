// Large request bodies in memory used again rather than fresh (issue 15). A buffer of >= 128 KB
// that a worker makes per request (the client's body as it is collected, a translated upstream
// body) is costly fresh: glibc may serve it with newly mapped pages that fault in on first touch,
// and V8 counts it as external memory that brings the next GC closer. Each worker keeps a few such
// buffers and lends them out again.
//
// The danger is a buffer lent again while someone still reads it: another request's body would be
// overwritten under it. A buffer therefore comes back only through LentBody, on a proof that the
// upstream write is over (see there); every other outcome (an error, an abort, a retry, an answer
// that came before the body was written, a body never sent) leaves it to the garbage collector.
// Code that takes a buffer here and never gives it back is safe: it is simply not reused.

/** Bodies this large are lent from the worker's buffers; smaller ones are cheap fresh (glibc's heap, Node's pool). */
export const LARGE_BODY = 128 * 1024;
/** Capacities are rounded up to this, so a session's growing body fits the buffer its last call used. */
const STEP = 64 * 1024;
/** What a worker keeps between requests: a few buffers, and no large one. */
const MAX_KEPT = 8;
const MAX_KEPT_BYTES = 8 * 1024 * 1024;
const MAX_CAPACITY = 2 * 1024 * 1024;

/** Whether each buffer made here is lent out (true) or kept (false), by its memory. Weak: a lent buffer never given back is collected. */
const lent = new WeakMap<ArrayBufferLike, boolean>();
/** Kept buffers, at full capacity. */
const kept: Buffer[] = [];
let keptBytes = 0;

/** Counts for the tests and the bench: buffers made fresh, lent again, given back, and dropped at give-back (over the bound). */
export const largeBufferStats = { made: 0, reused: 0, givenBack: 0, dropped: 0 };

/** `size` bytes (contents undefined) in a buffer kept here if one fits, else a fresh one. */
export function takeLarge(size: number): Buffer {
  let best = -1;
  for (let i = 0; i < kept.length; i++) {
    const cap = kept[i]!.length;
    if (cap >= size && (best < 0 || cap < kept[best]!.length)) best = i;
  }
  if (best >= 0) {
    const b = kept[best]!;
    kept[best] = kept[kept.length - 1]!;
    kept.pop();
    keptBytes -= b.length;
    lent.set(b.buffer, true);
    largeBufferStats.reused++;
    return b.subarray(0, size);
  }
  const b = Buffer.allocUnsafeSlow(Math.ceil(size / STEP) * STEP);
  lent.set(b.buffer, true);
  largeBufferStats.made++;
  return b.subarray(0, size);
}

/** Whether `b` lies in a buffer lent by takeLarge and not given back. */
export function isLent(b: Buffer): boolean {
  // Asked for every body sent upstream: a small body's memory (Node's 8 KB pool) is never lent.
  return b.buffer.byteLength >= LARGE_BODY && lent.get(b.buffer) === true;
}

/**
 * Takes back the buffer `b` lies in. Only for a buffer nobody reads or writes any more (LentBody
 * proves it for a body sent upstream). Giving back twice, or what was not lent, does nothing.
 */
function giveBack(b: Buffer): void {
  const memory = b.buffer;
  if (lent.get(memory) !== true) return;
  lent.set(memory, false);
  largeBufferStats.givenBack++;
  const whole = Buffer.from(memory as ArrayBuffer);
  if (kept.length >= MAX_KEPT || keptBytes + whole.length > MAX_KEPT_BYTES || whole.length > MAX_CAPACITY) {
    lent.delete(memory);
    largeBufferStats.dropped++;
    return;
  }
  kept.push(whole);
  keptBytes += whole.length;
}

const DONE: IteratorResult<Buffer> = { done: true, value: undefined };

/**
 * A lent buffer as undici's request body: an iterable of one chunk (or of a translation's pieces,
 * whose client buffer is the lent one), and the proof that undici is done writing it. undici (lib/dispatcher/client-h1.js, writeIterable) writes each chunk with
 * `socket.write` and, when that returns false (always for a chunk above the socket's 16 KB
 * high-water mark), waits for the socket's 'drain' or 'close' before asking the iterator for the
 * next chunk. 'drain' comes once every write's callback ran (libuv has copied the bytes into the
 * kernel); 'close' once the handle is closed, when libuv writes nothing more. So when undici asks
 * for the chunk after this one (next) or stops early (return), nothing reads the buffer any more.
 * A Buffer body gives no such sign: undici counts it sent as soon as `socket.write` returned.
 * The gateway's own client (src/upstream/) writes `chunk` itself and calls `sentWhole` when the
 * answer ended with nothing of the request left queued in Node (the socket's writableLength 0).
 *
 * The buffer is given back only when that happened and then the answer completed normally
 * (`answered`); an answer that completes first (the upstream answered before reading the body:
 * undici then destroys the socket) or any other outcome (`drop`) leaves it to the GC.
 */
export class LentBody implements Iterable<Buffer>, Iterator<Buffer> {
  private step: 'new' | 'writing' | 'written' | 'settled' = 'new';
  /** The next of the pieces to hand undici. */
  private piece = 0;
  /**
   * `chunk`: the body, one lent buffer or pieces that are not lent (the translation cache's parts,
   * handed over one by one); `also`: another lent buffer that this call made only for this body
   * (the client's, for a translation).
   */
  constructor(
    readonly chunk: Buffer | readonly Buffer[],
    private readonly also: Buffer | null = null,
  ) {}

  [Symbol.iterator](): Iterator<Buffer> {
    // One pass only: a second would send the chunk again after the proof.
    if (this.step !== 'new') throw new Error('a lent body is written once');
    return this;
  }

  next(): IteratorResult<Buffer> {
    const c = this.chunk;
    if (this.step === 'new' || (this.step === 'writing' && Array.isArray(c) && this.piece < c.length)) {
      this.step = 'writing';
      return { done: false, value: Array.isArray(c) ? (c as readonly Buffer[])[this.piece++]! : (c as Buffer) };
    }
    if (this.step === 'writing') this.step = 'written';
    return DONE;
  }

  return(): IteratorResult<Buffer> {
    if (this.step === 'writing') this.step = 'written';
    return DONE;
  }

  /** A client that wrote the chunk itself, not through the iterator, saw it go out whole. */
  sentWhole(): void {
    if (this.step === 'new' || this.step === 'writing') this.step = 'written';
  }

  /** The answer to this body completed normally on its socket. */
  answered(): void {
    if (this.step === 'written') {
      if (!Array.isArray(this.chunk)) giveBack(this.chunk as Buffer);
      if (this.also) giveBack(this.also);
    }
    this.step = 'settled';
  }

  /** Any other end of the attempt: the buffers are left to the GC. */
  drop(): void {
    this.step = 'settled';
  }
}
