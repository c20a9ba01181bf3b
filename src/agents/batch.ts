// Calls that arrive together go out as one: `one(item)` queues the item, and the queue is handed to
// `many` at the next turn of the event loop, or when the batch before it has finished (one batch at
// a time, so a fan-out holds one database connection, not one per run). When a batch fails, its
// items are tried one by one, so only the items that fail on their own fail.
export class Batched<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private draining = false;

  constructor(
    private readonly many: (items: I[]) => Promise<O[]>,
    private readonly max = 256,
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
        batch.forEach((b, i) => b.resolve(out[i]!));
      } catch (e) {
        if (batch.length === 1) batch[0]!.reject(e);
        else for (const b of batch) await this.many([b.item]).then((o) => b.resolve(o[0]!), b.reject);
      }
    }
    this.draining = false;
  }
}
