// One buffer a thread keeps for its next use of the same kind, lent out and given back (issue 15).
// A large buffer made fresh for each use and dropped a moment later is external memory that
// lives until the thread's next GC, and glibc, which raises its mmap threshold to a freed chunk's
// size, serves the later ones from a heap they fragment. The spend writer's journal reads and its
// SpendLogs statements each keep one (and each statement column one).
//
// While lent, the buffer is not kept: a second user at the same time (a read nested in a read's
// sink, a statement whose write is still under way) gets a fresh one, never the same memory.
// Code that takes a buffer and never gives it back is safe: it is simply not used again.

export class KeptBuffer {
  private kept: Buffer | null = null;
  /** Buffers made fresh, and lent again (tests count them). */
  readonly stats = { fresh: 0, reused: 0 };

  constructor(
    /** Buffers larger than this are not kept. */
    private readonly maxBytes: number,
    /** Fresh buffers are rounded up to a multiple of this, so a slowly growing use fits the last one. */
    private readonly step: number,
  ) {}

  /** A buffer of at least `size` bytes (contents undefined): the kept one when it is free and large enough. */
  take(size: number): Buffer {
    const b = this.kept;
    if (b !== null && b.length >= size) {
      this.kept = null;
      this.stats.reused++;
      return b;
    }
    this.stats.fresh++;
    return Buffer.allocUnsafeSlow(Math.ceil(Math.max(size, 1) / this.step) * this.step);
  }

  /** Back once nothing reads or writes it any more; of two, the larger is kept. */
  giveBack(b: Buffer): void {
    if (b.length <= this.maxBytes && (this.kept === null || this.kept.length < b.length)) this.kept = b;
  }
}
