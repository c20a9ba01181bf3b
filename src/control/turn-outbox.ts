// Messages made in one turn of the event loop, sent together at the next: one postMessage for
// what was one per piece (a fan-out's SSE events toward a worker, per event and per watcher).
// A turn that made one piece sends it alone, as it would have been sent; several go as an array,
// in the order they were made.
export class TurnOutbox<T> {
  private pieces: T[] = [];

  constructor(private readonly send: (one: T | T[]) => void) {}

  push(piece: T): void {
    this.pieces.push(piece);
    if (this.pieces.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const out = this.pieces;
    this.pieces = [];
    if (out.length > 0) this.send(out.length === 1 ? out[0]! : out);
  }
}
