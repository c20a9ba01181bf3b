// Calls that arrive together go out as one: `one(item)` queues the item, and the queue is handed to
// `many` at the next turn of the event loop, or when the batch before it has finished (one batch at
// a time, so a fan-out holds one database connection, not one per run). When a batch fails, its
// items are tried one by one, so only the items that fail on their own fail.
//
// A batch's callers are resumed a slice at a time, one slice per turn of the event loop: each
// caller goes on with its own next steps (a run's start: its events, its spawn, its next query),
// and 64 of them in one turn were one long stretch of the control thread, during which no SSE
// event, timer or answer moved.
/** Callers of one batch resumed in one turn (see above). */
const RESUME_PER_TURN = 8;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Batched<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private draining = false;

  constructor(
    private readonly many: (items: I[]) => Promise<O[]>,
    private readonly max = 256,
    /** Callers resumed per turn of the event loop. */
    private readonly resumePerTurn = RESUME_PER_TURN,
  ) {}

  one(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.max);
      try {
        const out = await this.many(batch.map((b) => b.item));
        for (let i = 0; i < batch.length; i++) {
          if (i > 0 && i % this.resumePerTurn === 0) await nextTurn();
          batch[i]!.resolve(out[i]!);
        }
      } catch (e) {
        if (batch.length === 1) batch[0]!.reject(e);
        else for (const b of batch) await this.many([b.item]).then((o) => b.resolve(o[0]!), b.reject);
      }
    }
    this.draining = false;
  }
}
